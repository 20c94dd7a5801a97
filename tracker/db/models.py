"""The schema as SQLAlchemy/GeoAlchemy2 models: the source Alembic migrations are written from.

The hot paths use asyncpg directly (COPY, hand-written SQL); these models say what
the tables are, so migrations can be checked against them.
"""
from __future__ import annotations

from datetime import date, datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from streams.vocabulary import DISPOSITIONS

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _now():
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class Carrier(Base):
    __tablename__ = "carriers"
    id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    license_no: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = _now()


class Vehicle(Base):
    __tablename__ = "vehicles"
    plate: Mapped[str] = mapped_column(Text, primary_key=True)
    carrier_id: Mapped[str] = mapped_column(ForeignKey("carriers.id"), index=True)
    tank_capacity_kg: Mapped[float] = mapped_column(Double)
    hazard_classes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    permit_valid_until: Mapped[date] = mapped_column(Date)
    tank_inspection_valid_until: Mapped[date] = mapped_column(Date)
    terminal_phone: Mapped[str | None] = mapped_column(Text, unique=True)
    updated_at: Mapped[datetime] = _now()


# A terminal phone compares without its leading zeros (BCD[6] and BCD[10] pad with them), so
# two vehicles may not hold '13912345678' and '013912345678' (migration 0005).
Index("ix_vehicles_terminal_phone_key", func.ltrim(Vehicle.terminal_phone, "0"), unique=True)


class Terminal(Base):
    """A JT/T 808 terminal that registered (0x0100), keyed by its phone with leading zeros
    stripped (the vehicle's `terminal_phone` compares the same way). Only the SHA-256 of its
    auth code is kept, as for tokens; a logout clears it. The connection columns say which
    gateway connection holds the terminal now, so every API process answers alike."""

    __tablename__ = "terminals"
    phone: Mapped[str] = mapped_column(Text, primary_key=True)
    plate: Mapped[str] = mapped_column(Text)  # the vehicle it registered for
    auth_code_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    header_version: Mapped[str] = mapped_column(Text)  # '2013' or '2019'
    protocol_version: Mapped[int | None] = mapped_column(SmallInteger)
    registered_at: Mapped[datetime] = _now()
    connection_id: Mapped[str | None] = mapped_column(Text, index=True)  # '<gateway>:<n>' while connected
    authenticated: Mapped[bool] = mapped_column(Boolean, server_default="false")
    remote_addr: Mapped[str | None] = mapped_column(Text)
    connected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disconnected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Platform(Base):
    """A carrier's monitoring platform allowed to log in over JT/T 809 (migration 0009): the
    carriers it reports for, a salted PBKDF2 hash of its password (never the password), its
    access code, addresses, version and body-cipher keys (m1, ia1, ic1), and its link's state
    as the server connection holding it records it."""

    __tablename__ = "platforms"
    id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    carrier_ids: Mapped[list[str]] = mapped_column(ARRAY(Text))
    user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    access_code: Mapped[int] = mapped_column(BigInteger)
    allowed_ips: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    version: Mapped[str | None] = mapped_column(Text)  # '2011', '2019', or None: as it logs in
    encrypt_keys: Mapped[list[int] | None] = mapped_column(ARRAY(BigInteger))
    updated_at: Mapped[datetime] = _now()
    connection_id: Mapped[str | None] = mapped_column(Text, index=True)
    remote_addr: Mapped[str | None] = mapped_column(Text)
    link_version: Mapped[str | None] = mapped_column(Text)
    connected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disconnected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_message_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    frames: Mapped[int] = mapped_column(BigInteger, server_default="0")
    fixes: Mapped[int] = mapped_column(BigInteger, server_default="0")
    refused: Mapped[int] = mapped_column(BigInteger, server_default="0")


class Driver(Base):
    __tablename__ = "drivers"
    id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    carrier_id: Mapped[str] = mapped_column(ForeignKey("carriers.id"), index=True)
    roles: Mapped[list[str]] = mapped_column(ARRAY(Text))
    qualification_valid_until: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = _now()


class Token(Base):
    """API tokens; only the SHA-256 of a token is kept, so a database leak leaks no token."""

    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    role: Mapped[str] = mapped_column(Text)
    carrier_id: Mapped[str | None] = mapped_column(ForeignKey("carriers.id"))
    station_id: Mapped[str | None] = mapped_column(Text)
    agency: Mapped[str | None] = mapped_column(Text)
    checkpoint_id: Mapped[str | None] = mapped_column(Text)  # a camera token's checkpoint
    label: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Geofence(Base):
    """A geofence version: `version` grows on every change so workers rebuild only what changed.

    A deleted geofence keeps its row with `deleted_at` set, so workers learn of the deletion
    the same way they learn of any other change.
    """

    __tablename__ = "geofences"
    id: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(Text, index=True)
    name: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    properties: Mapped[dict] = mapped_column(JSONB)
    geom = mapped_column(Geometry(srid=4326, spatial_index=True), nullable=False)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = _now()
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set by a trigger from reference_clock in the writing transaction (commit order).
    change_seq: Mapped[int] = mapped_column(BigInteger, index=True)
    # The H3 cover computed when written (geofence.index.cover_feature); NULL: not yet.
    cover_resolution: Mapped[int | None] = mapped_column(SmallInteger)
    cover_interior: Mapped[list[int] | None] = mapped_column(ARRAY(BigInteger))
    cover_boundary: Mapped[list[int] | None] = mapped_column(ARRAY(BigInteger))


class Waybill(Base):
    __tablename__ = "waybills"
    id: Mapped[str] = mapped_column(Text, primary_key=True)
    plate: Mapped[str] = mapped_column(ForeignKey("vehicles.plate"), index=True)
    carrier_id: Mapped[str] = mapped_column(ForeignKey("carriers.id"))
    driver_id: Mapped[str] = mapped_column(Text)
    escort_id: Mapped[str] = mapped_column(Text)
    un_number: Mapped[str] = mapped_column(Text)
    hazard_class: Mapped[str] = mapped_column(Text)
    quantity_kg: Mapped[float] = mapped_column(Double)
    origin: Mapped[dict] = mapped_column(JSONB)
    destination: Mapped[dict] = mapped_column(JSONB)
    route = mapped_column(Geometry("LINESTRING", srid=4326, spatial_index=True), nullable=False)
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = _now()
    change_seq: Mapped[int] = mapped_column(BigInteger, index=True)  # as in Geofence


class FillingRecord(Base):
    """A station's record; its id is the station's own, unique per station."""

    __tablename__ = "filling_records"
    station_id: Mapped[str] = mapped_column(Text, primary_key=True, index=True)
    id: Mapped[str] = mapped_column(Text, primary_key=True)
    plate: Mapped[str] = mapped_column(Text, index=True)
    filled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    record: Mapped[dict] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    checks: Mapped[dict | None] = mapped_column(JSONB)


# Every accepted fix, range-partitioned by day on `ts` (see tracker.db.partitions). No
# primary key: a device may repeat a timestamp, and the worker, not a constraint, decides
# what a duplicate is; a constraint would make one repeated fix fail a whole COPY.
positions = Table(
    "positions",
    Base.metadata,
    Column("plate", Text, nullable=False),
    Column("ts", DateTime(timezone=True), nullable=False),
    Column("lat", Double, nullable=False),
    Column("lon", Double, nullable=False),
    Column("speed_kmh", Double, nullable=False),
    Column("heading_deg", Double, nullable=False),
    Column("alt_m", Double),
    Column("h3_cell", BigInteger, nullable=False),
    Column("source", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Index("ix_positions_plate_ts", "plate", "ts"),
    postgresql_partition_by="RANGE (ts)",
)


class VehicleState(Base):
    """A worker's per-vehicle rule state and the vehicle's latest position for the map."""

    __tablename__ = "vehicle_state"
    plate: Mapped[str] = mapped_column(Text, primary_key=True)
    state: Mapped[dict] = mapped_column(JSONB)
    last_ts: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lat: Mapped[float | None] = mapped_column(Double)
    lon: Mapped[float | None] = mapped_column(Double)
    speed_kmh: Mapped[float | None] = mapped_column(Double)
    heading_deg: Mapped[float | None] = mapped_column(Double)
    status: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = _now()


class VehicleCheckpoint(Base):
    """A vehicle's rule state at an event time, so late fixes can be replayed in event-time
    order from the newest checkpoint before them. One an hour of event time, kept for the
    late-fix window (plus the newest older one); the first, at epoch 0, is the empty state."""

    __tablename__ = "vehicle_checkpoints"
    plate: Mapped[str] = mapped_column(Text, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    state: Mapped[dict] = mapped_column(JSONB)


class ReferenceClock(Base):
    """One row: the counter every geofence and waybill change takes its change_seq from."""

    __tablename__ = "reference_clock"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)
    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)


class ConsumerOffset(Base):
    """The next offset to consume, written in the same transaction as the batch's results."""

    __tablename__ = "consumer_offsets"
    group_id: Mapped[str] = mapped_column(Text, primary_key=True)
    topic: Mapped[str] = mapped_column(Text, primary_key=True)
    partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_offset: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = _now()
    # The fix workers' partition clock (streams.clock), written with the offsets: the
    # newest fix's bounded event time and when it was received, the topic's partition
    # count (to find a plate's partition), and, while the partition is quiet, the timers'
    # clock with the wall time it was taken at. Read by the checks that wait for a track.
    event_ms: Mapped[int | None] = mapped_column(BigInteger)
    received_ms: Mapped[int | None] = mapped_column(BigInteger)
    partitions: Mapped[int | None] = mapped_column(Integer)
    quiet_clock_ms: Mapped[int | None] = mapped_column(BigInteger)
    quiet_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Violation(Base):
    """Kept for good: the position retention never touches them (no key ties them to positions)."""

    __tablename__ = "violations"
    __table_args__ = (Index("ix_violations_started_at", "started_at"),
                      Index("ix_violations_carrier_id_started_at", "carrier_id", "started_at"))
    violation_id: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(Text, index=True)
    plate: Mapped[str] = mapped_column(Text, index=True)
    carrier_id: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lat: Mapped[float] = mapped_column(Double)
    lon: Mapped[float] = mapped_column(Double)
    geofence_id: Mapped[str | None] = mapped_column(Text)
    waybill_id: Mapped[str | None] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(Text)
    agencies: Mapped[list[str]] = mapped_column(ARRAY(Text))
    details: Mapped[dict] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = _now()


class Outbox(Base):
    """Events waiting to be relayed to Kafka; rows are written with the state that caused them."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    topic: Mapped[str] = mapped_column(Text)
    key: Mapped[str | None] = mapped_column(Text)
    event_id: Mapped[str] = mapped_column(Text)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = _now()
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)


class DeadLetter(Base):
    """A refused item of hazmat.deadletter.v1, stored by the workers' dead-letter group for
    the data qualification figure; kept as long as positions."""

    __tablename__ = "deadletters"
    __table_args__ = (Index("ix_deadletters_received_at", "received_at"),)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    plate: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    is_fix: Mapped[bool] = mapped_column(Boolean)  # a refused fix (not a filling record)
    error: Mapped[str] = mapped_column(Text)
    input: Mapped[dict | None] = mapped_column(JSONB)


class ViolationHandling(Base):
    """How the safety office handles a violation (报警处置); no row: nobody has yet."""

    __tablename__ = "violation_handling"
    __table_args__ = (
        CheckConstraint("state IN ('acked', 'resolved')", name="state"),
        CheckConstraint(f"disposition IS NULL OR disposition IN {DISPOSITIONS!r}",
                        name="disposition"),
    )
    violation_id: Mapped[str] = mapped_column(Text, ForeignKey("violations.violation_id", ondelete="CASCADE"),
                                              primary_key=True)
    state: Mapped[str] = mapped_column(Text, index=True)
    acked_by: Mapped[str | None] = mapped_column(Text)
    acked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disposition: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = _now()


class ViolationHandlingHistory(Base):
    """Every handling action: who (the acting token's label), what, when, and the note."""

    __tablename__ = "violation_handling_history"
    __table_args__ = (CheckConstraint("action IN ('ack', 'resolve')", name="action"),)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    violation_id: Mapped[str] = mapped_column(Text, ForeignKey("violations.violation_id", ondelete="CASCADE"),
                                              index=True)
    action: Mapped[str] = mapped_column(Text)
    by: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = _now()
    disposition: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)


class Site(Base):
    """A place an incident's zones are checked against (docs/incidents.md "Sites"): a school,
    a hospital, a fire station; `properties` holds people (an estimate) and phone."""

    __tablename__ = "sites"
    id: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(Text, index=True)
    name: Mapped[str] = mapped_column(Text)
    properties: Mapped[dict] = mapped_column(JSONB)
    geom = mapped_column(Geometry(srid=4326, spatial_index=True), nullable=False)
    updated_at: Mapped[datetime] = _now()


class HazardOverride(Base):
    """The emergency bureau's own figures for a UN number (`PUT /v1/hazards`), merged over
    the shipped catalogue; `by` is the acting token's label."""

    __tablename__ = "hazard_overrides"
    un_number: Mapped[str] = mapped_column(Text, primary_key=True)
    row: Mapped[dict] = mapped_column(JSONB)
    by: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = _now()


class Incident(Base):
    """An incident: the inputs it was opened and patched with, the Incident as last
    computed, and `n`, the number of its last event (ids `<id>.<n>`)."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_opened_at", "opened_at"),
                      CheckConstraint("status IN ('open', 'closed')", name="status"))
    id: Mapped[str] = mapped_column(Text, primary_key=True)
    status: Mapped[str] = mapped_column(Text, index=True)
    kind: Mapped[str] = mapped_column(Text)
    plate: Mapped[str | None] = mapped_column(Text)
    carrier_id: Mapped[str | None] = mapped_column(Text)
    lat: Mapped[float] = mapped_column(Double)
    lon: Mapped[float] = mapped_column(Double)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    inputs: Mapped[dict] = mapped_column(JSONB)
    incident: Mapped[dict] = mapped_column(JSONB)
    n: Mapped[int] = mapped_column(Integer)
class Checkpoint(Base):
    """A checkpoint (卡口) with a plate-recognition camera: a point, its road and heading."""

    __tablename__ = "checkpoints"
    id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    road: Mapped[str | None] = mapped_column(Text)
    direction_deg: Mapped[float | None] = mapped_column(Double)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)
    updated_at: Mapped[datetime] = _now()


class PlateRead(Base):
    """A camera's read of a plate, its id unique per checkpoint; `matched` says whether a
    fix of the vehicle lay near the checkpoint around the read (null: not decided, or not
    a registered vehicle read with enough confidence)."""

    __tablename__ = "plate_reads"
    __table_args__ = (Index("ix_plate_reads_plate_ts", "plate", "ts"),)
    checkpoint_id: Mapped[str] = mapped_column(Text, primary_key=True)
    id: Mapped[str] = mapped_column(Text, primary_key=True)
    plate: Mapped[str] = mapped_column(Text)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    confidence: Mapped[float] = mapped_column(Double)
    read: Mapped[dict] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    matched: Mapped[bool | None] = mapped_column(Boolean)
    checks: Mapped[dict] = mapped_column(JSONB)


class PendingReadCheck(Base):
    """A read whose GPS check waits for the vehicle's track to cover the read's window."""

    __tablename__ = "pending_read_checks"
    __table_args__ = (ForeignKeyConstraint(["checkpoint_id", "read_id"], ["plate_reads.checkpoint_id", "plate_reads.id"],
                                           ondelete="CASCADE"),)
    checkpoint_id: Mapped[str] = mapped_column(Text, primary_key=True)
    read_id: Mapped[str] = mapped_column(Text, primary_key=True)
    plate: Mapped[str] = mapped_column(Text)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class TerminalMessage(Base):
    """A text to a terminal's driver (0x8300): written by the API (or the reminder of a
    violation, at most one each), sent by the JT/T 808 gateway holding the terminal."""

    __tablename__ = "terminal_messages"
    __table_args__ = (CheckConstraint("state IN ('queued', 'sent', 'delivered', 'failed', 'expired')", name="state"),
                      Index("ix_terminal_messages_phone_created_at", "phone", "created_at"))
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    phone: Mapped[str] = mapped_column(Text)  # leading zeros stripped, as terminals.phone
    text: Mapped[str] = mapped_column(Text)
    tts: Mapped[bool] = mapped_column(Boolean)
    urgent: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(Text, index=True)
    by: Mapped[str] = mapped_column(Text)  # the sending token's label, or "reminder"
    violation_id: Mapped[str | None] = mapped_column(Text, unique=True)
    serial: Mapped[int | None] = mapped_column(Integer)  # the 0x8300's header serial, for its 0x0001
    result: Mapped[int | None] = mapped_column(SmallInteger)  # the terminal's 0x0001 result
    created_at: Mapped[datetime] = _now()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

"""initial schema

Revision ID: 0001
Revises: 
"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


# Creates the day partitions of `positions` covering [first, last]; idempotent, so the API,
# the worker and `hazmat migrate` may all call it. Late fixes (up to 7 days) and replays
# need days in the past as well as today's and tomorrow's.
ENSURE_PARTITIONS = """
CREATE FUNCTION hazmat_ensure_position_partitions(first date, last date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    d date := first;
    made integer := 0;
    part text;
BEGIN
    WHILE d <= last LOOP
        part := 'positions_' || to_char(d, 'YYYYMMDD');
        IF to_regclass(part) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE IF NOT EXISTS %I PARTITION OF positions FOR VALUES FROM (%L) TO (%L)',
                part, d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC');
            made := made + 1;
        END IF;
        d := d + 1;
    END LOOP;
    RETURN made;
END $$;
"""


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table('carriers',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('license_no', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carriers'))
    )
    op.create_table('consumer_offsets',
    sa.Column('group_id', sa.Text(), nullable=False),
    sa.Column('topic', sa.Text(), nullable=False),
    sa.Column('partition', sa.Integer(), nullable=False),
    sa.Column('next_offset', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('group_id', 'topic', 'partition', name=op.f('pk_consumer_offsets'))
    )
    op.create_table('filling_records',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('station_id', sa.Text(), nullable=False),
    sa.Column('plate', sa.Text(), nullable=False),
    sa.Column('filled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('record', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('checks', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_filling_records'))
    )
    op.create_index(op.f('ix_filling_records_filled_at'), 'filling_records', ['filled_at'], unique=False)
    op.create_index(op.f('ix_filling_records_plate'), 'filling_records', ['plate'], unique=False)
    op.create_index(op.f('ix_filling_records_station_id'), 'filling_records', ['station_id'], unique=False)
    op.create_geospatial_table('geofences',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('properties', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('geom', Geometry(srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_geofences'))
    )
    op.create_geospatial_index('idx_geofences_geom', 'geofences', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_geofences_kind'), 'geofences', ['kind'], unique=False)
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('topic', sa.Text(), nullable=False),
    sa.Column('key', sa.Text(), nullable=True),
    sa.Column('event_id', sa.Text(), nullable=False),
    sa.Column('value', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    op.create_index(op.f('ix_outbox_published_at'), 'outbox', ['published_at'], unique=False)
    op.create_table('positions',
    sa.Column('plate', sa.Text(), nullable=False),
    sa.Column('ts', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lat', sa.Double(), nullable=False),
    sa.Column('lon', sa.Double(), nullable=False),
    sa.Column('speed_kmh', sa.Double(), nullable=False),
    sa.Column('heading_deg', sa.Double(), nullable=False),
    sa.Column('alt_m', sa.Double(), nullable=True),
    sa.Column('h3_cell', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    postgresql_partition_by='RANGE (ts)'
    )
    op.create_index('ix_positions_plate_ts', 'positions', ['plate', 'ts'], unique=False)
    op.execute(ENSURE_PARTITIONS)
    op.execute("SELECT hazmat_ensure_position_partitions(current_date - 8, current_date + 2)")
    op.create_table('vehicle_state',
    sa.Column('plate', sa.Text(), nullable=False),
    sa.Column('state', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('last_ts', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lat', sa.Double(), nullable=True),
    sa.Column('lon', sa.Double(), nullable=True),
    sa.Column('speed_kmh', sa.Double(), nullable=True),
    sa.Column('heading_deg', sa.Double(), nullable=True),
    sa.Column('status', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('plate', name=op.f('pk_vehicle_state'))
    )
    op.create_table('violations',
    sa.Column('violation_id', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('plate', sa.Text(), nullable=False),
    sa.Column('carrier_id', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lat', sa.Double(), nullable=False),
    sa.Column('lon', sa.Double(), nullable=False),
    sa.Column('geofence_id', sa.Text(), nullable=True),
    sa.Column('waybill_id', sa.Text(), nullable=True),
    sa.Column('severity', sa.Text(), nullable=False),
    sa.Column('agencies', sa.ARRAY(sa.Text()), nullable=False),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('violation_id', name=op.f('pk_violations'))
    )
    op.create_index(op.f('ix_violations_kind'), 'violations', ['kind'], unique=False)
    op.create_index(op.f('ix_violations_plate'), 'violations', ['plate'], unique=False)
    op.create_index('ix_violations_started_at', 'violations', ['started_at'], unique=False)
    op.create_table('drivers',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('carrier_id', sa.Text(), nullable=False),
    sa.Column('roles', sa.ARRAY(sa.Text()), nullable=False),
    sa.Column('qualification_valid_until', sa.Date(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['carrier_id'], ['carriers.id'], name=op.f('fk_drivers_carrier_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drivers'))
    )
    op.create_index(op.f('ix_drivers_carrier_id'), 'drivers', ['carrier_id'], unique=False)
    op.create_table('tokens',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('token_hash', sa.LargeBinary(), nullable=False),
    sa.Column('role', sa.Text(), nullable=False),
    sa.Column('carrier_id', sa.Text(), nullable=True),
    sa.Column('station_id', sa.Text(), nullable=True),
    sa.Column('agency', sa.Text(), nullable=True),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['carrier_id'], ['carriers.id'], name=op.f('fk_tokens_carrier_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_tokens_token_hash'))
    )
    op.create_table('vehicles',
    sa.Column('plate', sa.Text(), nullable=False),
    sa.Column('carrier_id', sa.Text(), nullable=False),
    sa.Column('tank_capacity_kg', sa.Double(), nullable=False),
    sa.Column('hazard_classes', sa.ARRAY(sa.Text()), nullable=False),
    sa.Column('permit_valid_until', sa.Date(), nullable=False),
    sa.Column('tank_inspection_valid_until', sa.Date(), nullable=False),
    sa.Column('terminal_phone', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['carrier_id'], ['carriers.id'], name=op.f('fk_vehicles_carrier_id')),
    sa.PrimaryKeyConstraint('plate', name=op.f('pk_vehicles')),
    sa.UniqueConstraint('terminal_phone', name=op.f('uq_vehicles_terminal_phone'))
    )
    op.create_index(op.f('ix_vehicles_carrier_id'), 'vehicles', ['carrier_id'], unique=False)
    op.create_geospatial_table('waybills',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('plate', sa.Text(), nullable=False),
    sa.Column('carrier_id', sa.Text(), nullable=False),
    sa.Column('driver_id', sa.Text(), nullable=False),
    sa.Column('escort_id', sa.Text(), nullable=False),
    sa.Column('un_number', sa.Text(), nullable=False),
    sa.Column('hazard_class', sa.Text(), nullable=False),
    sa.Column('quantity_kg', sa.Double(), nullable=False),
    sa.Column('origin', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('destination', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('route', Geometry(geometry_type='LINESTRING', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_to', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['carrier_id'], ['carriers.id'], name=op.f('fk_waybills_carrier_id')),
    sa.ForeignKeyConstraint(['plate'], ['vehicles.plate'], name=op.f('fk_waybills_plate')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waybills'))
    )
    op.create_geospatial_index('idx_waybills_route', 'waybills', ['route'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_waybills_plate'), 'waybills', ['plate'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_waybills_plate'), table_name='waybills')
    op.drop_geospatial_index('idx_waybills_route', table_name='waybills', postgresql_using='gist', column_name='route')
    op.drop_geospatial_table('waybills')
    op.drop_index(op.f('ix_vehicles_carrier_id'), table_name='vehicles')
    op.drop_table('vehicles')
    op.drop_table('tokens')
    op.drop_index(op.f('ix_drivers_carrier_id'), table_name='drivers')
    op.drop_table('drivers')
    op.drop_index('ix_violations_started_at', table_name='violations')
    op.drop_index(op.f('ix_violations_plate'), table_name='violations')
    op.drop_index(op.f('ix_violations_kind'), table_name='violations')
    op.drop_table('violations')
    op.drop_table('vehicle_state')
    op.execute("DROP FUNCTION hazmat_ensure_position_partitions(date, date)")
    op.drop_index('ix_positions_plate_ts', table_name='positions')
    op.drop_table('positions')
    op.drop_index(op.f('ix_outbox_published_at'), table_name='outbox')
    op.drop_table('outbox')
    op.drop_index(op.f('ix_geofences_kind'), table_name='geofences')
    op.drop_geospatial_index('idx_geofences_geom', table_name='geofences', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('geofences')
    op.drop_index(op.f('ix_filling_records_station_id'), table_name='filling_records')
    op.drop_index(op.f('ix_filling_records_plate'), table_name='filling_records')
    op.drop_index(op.f('ix_filling_records_filled_at'), table_name='filling_records')
    op.drop_table('filling_records')
    op.drop_table('consumer_offsets')
    op.drop_table('carriers')

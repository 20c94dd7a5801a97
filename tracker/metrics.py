"""Prometheus metrics, kept beside the processing code (no per-vehicle labels)."""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Histogram(
    "hazmat_http_request_seconds", "HTTP request handling time", ["route", "method", "status"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
INTAKE_ITEMS = Counter("hazmat_intake_items_total", "Items received by the HTTP intakes", ["kind", "outcome"])
BROKER_FAILURES = Counter("hazmat_broker_unavailable_total", "Intake requests answered 503: broker unavailable")
WORKER_RECORDS = Counter("hazmat_worker_records_total", "Records committed by the stream workers", ["group"])
WORKER_BATCH_SECONDS = Histogram(
    "hazmat_worker_batch_seconds", "Time from a batch fetched to its transaction handed to the writer (it commits while the next batch is processed)", ["group"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
WORKER_FAILURES = Counter("hazmat_worker_failures_total",
                          "Batches not committed: 'outage' (database or broker away, waited out) or 'data' "
                          "(the records are retried in smaller pieces)", ["group", "cause"])
WORKER_DEADLETTERED = Counter("hazmat_worker_deadlettered_total",
                              "Messages a worker gave up on after every try: dead-lettered, offset committed",
                              ["group"])
WORKER_REWINDS = Counter("hazmat_worker_rewinds_total", "Returns to the stored offsets (assignments, failures)",
                         ["group"])
VIOLATION_EVENTS = Counter("hazmat_violation_events_total", "Violation events the workers produced (a retried batch counts again)", ["kind", "type"])
LATE_REPLAYS = Counter("hazmat_worker_late_replays_total", "Vehicles replayed from a checkpoint for late fixes")
LATE_UNREPLAYED = Counter("hazmat_worker_late_fixes_unreplayed_total",
                          "Late fixes older than every checkpoint of their vehicle: stored, not run through the rules")
WITHDRAWALS = Counter("hazmat_violations_withdrawn_total", "Violations withdrawn because late fixes disproved them",
                      ["kind"])
MAINTENANCE_PARTITIONS = Counter("hazmat_maintenance_partitions_total",
                                 "Day partitions of positions the maintenance run dropped (past retention) or "
                                 "created (days ahead)", ["action"])
MAINTENANCE_ROWS = Counter("hazmat_maintenance_rows_pruned_total",
                           "Rows the maintenance run deleted: dead letters past retention, published outbox rows, "
                           "rule checkpoints no late fix can need", ["table"])
MAINTENANCE_FAILURES = Counter("hazmat_maintenance_failures_total",
                               "Maintenance runs that failed or left a partition in place (a lock not granted)")
MAINTENANCE_LAST_SUCCESS = Gauge("hazmat_maintenance_last_success_timestamp_seconds",
                                 "When a maintenance run last finished without failure (alert when > 2 days old)")



# The JT/T 808 gateway. Message ids are labelled only for those it handles ("other" for
# the rest), so a terminal sending every id cannot grow the label set.
JT808_FRAMES = Counter("hazmat_jt808_frames_total", "Whole JT/T 808 messages received, by message id", ["msg_id"])
JT808_REPLIES = Counter("hazmat_jt808_replies_total", "Answers sent to terminals, by message and result code",
                        ["msg_id", "result"])
JT808_REFUSALS = Counter("hazmat_jt808_refusals_total",
                         "Frames, reports and connections refused, by reason (a closed connection counts under "
                         "its limit: rate, frame_size, buffer, idle)", ["reason"])
JT808_CLOSED = Counter("hazmat_jt808_connections_closed_total", "Terminal connections ended, by reason", ["reason"])
JT808_FIXES = Counter("hazmat_jt808_fixes_total", "Positions of JT/T 808 reports: published or dead-lettered",
                      ["outcome"])
JT808_TEXTS = Counter("hazmat_jt808_texts_total", "Texts to drivers (0x8300): sent, delivered, failed (by the "
                      "terminal's 0x0001) or queued again (the connection was lost)", ["outcome"])
READ_CHECKS = Counter("hazmat_plate_read_checks_total", "Checkpoint reads' GPS checks decided, by outcome "
                      "(matched, missing, low_confidence, unregistered)", ["outcome"])
JT808_QUIRKS = Counter("hazmat_jt808_quirks_total", "Frames taken although a device got them wrong, by quirk",
                       ["quirk"])
JT808_CONNECTIONS = Gauge("hazmat_jt808_connections", "Open TCP connections to the JT/T 808 gateway")
JT808_CONNECTED = Gauge("hazmat_jt808_connected_terminals", "Terminals authenticated on an open connection")
JT808_ACK_SECONDS = Histogram(
    "hazmat_jt808_report_seconds", "From a location report's frame received to its positions acknowledged by the broker",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
)

# JT/T 809 platform links (`hazmat jt809`). Message ids and sub-types are labelled only for
# those the server handles ("other" for the rest), so a platform cannot grow the label set.
JT809_FRAMES = Counter("hazmat_jt809_frames_total", "JT/T 809 frames decoded on platform links, by message id",
                       ["msg_id"])
JT809_REFUSALS = Counter("hazmat_jt809_refusals_total",
                         "Frames, logins, positions and links refused, by reason (a closed link counts under its "
                         "limit: rate, frame_size, buffer, idle, login_failures)", ["reason"])
JT809_LOGINS = Counter("hazmat_jt809_logins_total", "0x1002 login answers, by result", ["result"])
JT809_FIXES = Counter("hazmat_jt809_fixes_total", "Positions of 0x1202/0x1203: published or dead-lettered",
                      ["outcome"])
JT809_REGISTRATIONS = Counter("hazmat_jt809_registrations_total", "0x1201 vehicle registrations recorded")
JT809_CLOSED = Counter("hazmat_jt809_links_closed_total", "Platform connections ended, by reason", ["reason"])
JT809_CONNECTIONS = Gauge("hazmat_jt809_connections", "Open TCP connections to the JT/T 809 server")
JT809_LINKS = Gauge("hazmat_jt809_links", "Platforms logged in on an open connection")
JT809_UPSTREAM = Counter("hazmat_jt809_upstream_total",
                         "What the sub-platform client sent the provincial platform: fix, alarm, or skipped "
                         "(not representable), and its reconnects", ["what"])
JT809_UPSTREAM_LINKED = Gauge("hazmat_jt809_upstream_linked", "1 while logged in to the provincial platform")

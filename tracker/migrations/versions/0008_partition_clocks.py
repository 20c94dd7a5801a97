"""partition clocks beside the consumed offsets

The fix workers keep each partition's event time (streams.clock) with its offsets, so the
checks that wait for a vehicle's track (the filling presence check now, checkpoint reads
next) decide on that partition's time, never on another's, and a restart resumes it.

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

COLUMNS = (('event_ms', sa.BigInteger()), ('received_ms', sa.BigInteger()), ('partitions', sa.Integer()),
           ('quiet_clock_ms', sa.BigInteger()), ('quiet_at', sa.DateTime(timezone=True)))


def upgrade() -> None:
    for name, type_ in COLUMNS:
        op.add_column('consumer_offsets', sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    for name, _ in reversed(COLUMNS):
        op.drop_column('consumer_offsets', name)

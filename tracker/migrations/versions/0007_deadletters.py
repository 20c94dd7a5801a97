"""dead letters kept in PostGIS, for the data qualification figure

The intake and the workers publish every refused item to hazmat.deadletter.v1; a consumer
group of the workers stores them here (with its offsets), so the bureaus' data
qualification rate can count the records refused beside those stored. Kept as long as
positions (HAZMAT_POSITIONS_RETENTION_DAYS), pruned by `hazmat maintain`.

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('deadletters',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('plate', sa.Text(), nullable=True),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('is_fix', sa.Boolean(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('input', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deadletters'))
    )
    op.create_index('ix_deadletters_received_at', 'deadletters', ['received_at'], unique=False)
    op.create_index('ix_violations_carrier_id_started_at', 'violations', ['carrier_id', 'started_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_violations_carrier_id_started_at', table_name='violations')
    op.drop_index('ix_deadletters_received_at', table_name='deadletters')
    op.drop_table('deadletters')

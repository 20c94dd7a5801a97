"""vehicle checkpoints kept for the whole late-fix window, not just the newest two

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.rename_table('vehicle_checkpoints', 'vehicle_checkpoints_pairs')
    op.execute("ALTER TABLE vehicle_checkpoints_pairs RENAME CONSTRAINT pk_vehicle_checkpoints TO pk_vehicle_checkpoints_pairs")
    op.create_table('vehicle_checkpoints',
    sa.Column('plate', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('plate', 'at', name=op.f('pk_vehicle_checkpoints'))
    )
    op.execute("""INSERT INTO vehicle_checkpoints (plate, at, state)
                  SELECT plate, candidate_at, candidate FROM vehicle_checkpoints_pairs
                  UNION SELECT plate, checkpoint_at, checkpoint FROM vehicle_checkpoints_pairs
                  WHERE checkpoint_at IS NOT NULL""")
    op.drop_table('vehicle_checkpoints_pairs')


def downgrade() -> None:
    op.rename_table('vehicle_checkpoints', 'vehicle_checkpoints_history')
    op.execute("ALTER TABLE vehicle_checkpoints_history RENAME CONSTRAINT pk_vehicle_checkpoints TO pk_vehicle_checkpoints_history")
    op.create_table('vehicle_checkpoints',
    sa.Column('plate', sa.Text(), nullable=False),
    sa.Column('checkpoint_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checkpoint', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('candidate_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('candidate', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('plate', name=op.f('pk_vehicle_checkpoints'))
    )
    op.execute("""INSERT INTO vehicle_checkpoints (plate, candidate_at, candidate, checkpoint_at, checkpoint)
                  SELECT plate, newest[1].at, newest[1].state, newest[2].at, newest[2].state FROM (
                    SELECT plate, array_agg(h ORDER BY h.at DESC) AS newest
                    FROM vehicle_checkpoints_history h GROUP BY plate) p""")
    op.drop_table('vehicle_checkpoints_history')

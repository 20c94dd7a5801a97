"""vehicle checkpoints for replaying late fixes

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('vehicle_checkpoints',
    sa.Column('plate', sa.Text(), nullable=False),
    sa.Column('checkpoint_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checkpoint', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('candidate_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('candidate', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('plate', name=op.f('pk_vehicle_checkpoints'))
    )


def downgrade() -> None:
    op.drop_table('vehicle_checkpoints')

"""geofence covers stored beside the geofences

A geofence's H3 cover (interior and boundary cells) is computed once, when it is written,
and kept with it: a worker's start loads arrays instead of covering every geofence again
(bench/start.py). Rows written before have none; the workers cover those themselves.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('geofences', sa.Column('cover_resolution', sa.SmallInteger(), nullable=True))
    op.add_column('geofences', sa.Column('cover_interior', postgresql.ARRAY(sa.BigInteger()), nullable=True))
    op.add_column('geofences', sa.Column('cover_boundary', postgresql.ARRAY(sa.BigInteger()), nullable=True))


def downgrade() -> None:
    for name in ('cover_boundary', 'cover_interior', 'cover_resolution'):
        op.drop_column('geofences', name)

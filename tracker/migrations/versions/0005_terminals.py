"""JT/T 808 terminals

One row per terminal that registered: the phone key (leading zeros stripped), the plate
it registered for, the SHA-256 of its current auth code (none after a logout), its header
version, and which gateway connection holds it (so every API process tells alike whether
it is connected). Vehicles' terminal phones become unique without their leading zeros.

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('terminals',
    sa.Column('phone', sa.Text(), nullable=False),
    sa.Column('plate', sa.Text(), nullable=False),
    sa.Column('auth_code_hash', sa.LargeBinary(), nullable=True),
    sa.Column('header_version', sa.Text(), nullable=False),
    sa.Column('protocol_version', sa.SmallInteger(), nullable=True),
    sa.Column('registered_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('connection_id', sa.Text(), nullable=True),
    sa.Column('authenticated', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('remote_addr', sa.Text(), nullable=True),
    sa.Column('connected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disconnected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('phone', name=op.f('pk_terminals'))
    )
    op.create_index(op.f('ix_terminals_connection_id'), 'terminals', ['connection_id'], unique=False)
    op.execute("CREATE UNIQUE INDEX ix_vehicles_terminal_phone_key ON vehicles (ltrim(terminal_phone, '0'))")


def downgrade() -> None:
    op.execute("DROP INDEX ix_vehicles_terminal_phone_key")
    op.drop_index(op.f('ix_terminals_connection_id'), table_name='terminals')
    op.drop_table('terminals')

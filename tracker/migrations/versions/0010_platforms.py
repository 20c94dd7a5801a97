"""JT/T 809 platforms

One row per carrier monitoring platform allowed to log in over JT/T 809: the carriers
whose vehicles it may report, its login (user id, a salted PBKDF2 hash of its password,
access code), the addresses it may come from, its header version and body-cipher keys,
and the state of its link (which server connection holds it, from where, since when,
the last message and counts), so every API process shows the same.

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('platforms',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('carrier_ids', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('access_code', sa.BigInteger(), nullable=False),
    sa.Column('allowed_ips', postgresql.ARRAY(sa.Text()), nullable=True),
    sa.Column('version', sa.Text(), nullable=True),
    sa.Column('encrypt_keys', postgresql.ARRAY(sa.BigInteger()), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('connection_id', sa.Text(), nullable=True),
    sa.Column('remote_addr', sa.Text(), nullable=True),
    sa.Column('link_version', sa.Text(), nullable=True),
    sa.Column('connected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disconnected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_message_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('frames', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('fixes', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('refused', sa.BigInteger(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platforms')),
    sa.UniqueConstraint('user_id', name=op.f('uq_platforms_user_id'))
    )
    op.create_index(op.f('ix_platforms_connection_id'), 'platforms', ['connection_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_platforms_connection_id'), table_name='platforms')
    op.drop_table('platforms')

"""checkpoint cameras, their plate reads and messages to terminals

Checkpoints (卡口) and the plate reads their cameras post (ids unique per checkpoint);
the reads' GPS checks waiting for the vehicle's track to cover the read's window, kept
here so a restart or a rebalance loses none; a camera token's checkpoint; and the text
messages to terminals (0x8300) with their states, handed from the API to the JT/T 808
gateway through this table and NOTIFY.

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

MESSAGE_STATES = "state IN ('queued', 'sent', 'delivered', 'failed', 'expired')"


def upgrade() -> None:
    op.create_geospatial_table('checkpoints',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('road', sa.Text(), nullable=True),
    sa.Column('direction_deg', sa.Double(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False,
                               from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkpoints'))
    )
    op.create_geospatial_index('idx_checkpoints_geom', 'checkpoints', ['geom'], unique=False,
                               postgresql_using='gist', postgresql_ops={})
    op.create_table('plate_reads',
    sa.Column('checkpoint_id', sa.Text(), nullable=False),
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('plate', sa.Text(), nullable=False),
    sa.Column('ts', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confidence', sa.Double(), nullable=False),
    sa.Column('read', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('matched', sa.Boolean(), nullable=True),
    sa.Column('checks', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('checkpoint_id', 'id', name=op.f('pk_plate_reads'))
    )
    op.create_index('ix_plate_reads_plate_ts', 'plate_reads', ['plate', 'ts'], unique=False)
    op.create_index(op.f('ix_plate_reads_ts'), 'plate_reads', ['ts'], unique=False)
    op.create_table('pending_read_checks',
    sa.Column('checkpoint_id', sa.Text(), nullable=False),
    sa.Column('read_id', sa.Text(), nullable=False),
    sa.Column('plate', sa.Text(), nullable=False),
    sa.Column('ts', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['checkpoint_id', 'read_id'], ['plate_reads.checkpoint_id', 'plate_reads.id'],
                            name=op.f('fk_pending_read_checks_checkpoint_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('checkpoint_id', 'read_id', name=op.f('pk_pending_read_checks'))
    )
    op.create_index(op.f('ix_pending_read_checks_ts'), 'pending_read_checks', ['ts'], unique=False)
    op.add_column('tokens', sa.Column('checkpoint_id', sa.Text(), nullable=True))
    op.create_table('terminal_messages',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('phone', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('tts', sa.Boolean(), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('state', sa.Text(), nullable=False),
    sa.Column('by', sa.Text(), nullable=False),
    sa.Column('violation_id', sa.Text(), nullable=True),
    sa.Column('serial', sa.Integer(), nullable=True),
    sa.Column('result', sa.SmallInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint(MESSAGE_STATES, name=op.f('ck_terminal_messages_state')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_terminal_messages')),
    sa.UniqueConstraint('violation_id', name=op.f('uq_terminal_messages_violation_id'))
    )
    op.create_index('ix_terminal_messages_phone_created_at', 'terminal_messages', ['phone', 'created_at'], unique=False)
    op.create_index(op.f('ix_terminal_messages_state'), 'terminal_messages', ['state'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_terminal_messages_state'), table_name='terminal_messages')
    op.drop_index('ix_terminal_messages_phone_created_at', table_name='terminal_messages')
    op.drop_table('terminal_messages')
    op.drop_column('tokens', 'checkpoint_id')
    op.drop_index(op.f('ix_pending_read_checks_ts'), table_name='pending_read_checks')
    op.drop_table('pending_read_checks')
    op.drop_index(op.f('ix_plate_reads_ts'), table_name='plate_reads')
    op.drop_index('ix_plate_reads_plate_ts', table_name='plate_reads')
    op.drop_table('plate_reads')
    op.drop_geospatial_index('idx_checkpoints_geom', table_name='checkpoints', postgresql_using='gist',
                             column_name='geom')
    op.drop_geospatial_table('checkpoints')

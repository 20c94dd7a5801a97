"""violation handling (报警处置): the state of each violation's handling and its history

`violation_handling` holds one row per violation someone has acknowledged or resolved
(none: the violation is new); `violation_handling_history` every action with who (the
acting token's label), what, when and the note given.

Revision ID: 0006
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('violation_handling',
    sa.Column('violation_id', sa.Text(), nullable=False),
    sa.Column('state', sa.Text(), nullable=False),
    sa.Column('acked_by', sa.Text(), nullable=True),
    sa.Column('acked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.Text(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disposition', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("state IN ('acked', 'resolved')", name=op.f('ck_violation_handling_state')),
    sa.CheckConstraint("disposition IS NULL OR disposition IN ('confirmed', 'false_alarm', 'handled')",
                       name=op.f('ck_violation_handling_disposition')),
    sa.ForeignKeyConstraint(['violation_id'], ['violations.violation_id'], name=op.f('fk_violation_handling_violation_id'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('violation_id', name=op.f('pk_violation_handling'))
    )
    op.create_index(op.f('ix_violation_handling_state'), 'violation_handling', ['state'], unique=False)
    op.create_table('violation_handling_history',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('violation_id', sa.Text(), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('by', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('disposition', sa.Text(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("action IN ('ack', 'resolve')", name=op.f('ck_violation_handling_history_action')),
    sa.ForeignKeyConstraint(['violation_id'], ['violations.violation_id'],
                            name=op.f('fk_violation_handling_history_violation_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_violation_handling_history'))
    )
    op.create_index(op.f('ix_violation_handling_history_violation_id'), 'violation_handling_history',
                    ['violation_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_violation_handling_history_violation_id'), table_name='violation_handling_history')
    op.drop_table('violation_handling_history')
    op.drop_index(op.f('ix_violation_handling_state'), table_name='violation_handling')
    op.drop_table('violation_handling')

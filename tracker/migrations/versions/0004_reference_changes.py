"""reference changes in commit order; filling records scoped by station

Geofences and waybills get `change_seq`, taken from one counter row that every writing
transaction bumps (its row lock is held to commit, so counter order is commit order) and
announced with NOTIFY hazmat_references. Filling record ids are unique per station, not
globally: two stations may use the same id.

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

LOCK = """
CREATE FUNCTION hazmat_lock_references() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- taken first by every statement that changes a reference, before any row lock:
    -- writers queue here in one order, so they cannot deadlock on the counter
    PERFORM 1 FROM reference_clock WHERE id = 1 FOR UPDATE;
    RETURN NULL;
END $$;
"""

BUMP = """
CREATE FUNCTION hazmat_reference_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE reference_clock SET seq = seq + 1 WHERE id = 1 RETURNING seq INTO NEW.change_seq;
    PERFORM pg_notify('hazmat_references', NEW.change_seq::text);
    RETURN NEW;
END $$;
"""


def upgrade() -> None:
    op.create_table('reference_clock',
    sa.Column('id', sa.SmallInteger(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_reference_clock_one_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reference_clock'))
    )
    op.execute("INSERT INTO reference_clock (id, seq) VALUES (1, 0)")
    op.execute(LOCK)
    op.execute(BUMP)
    for table in ('geofences', 'waybills'):
        op.add_column(table, sa.Column('change_seq', sa.BigInteger(), nullable=True))
        # existing rows, in the order they were last changed
        op.execute(f"""UPDATE {table} t SET change_seq = n.seq FROM (
                         SELECT id, row_number() OVER (ORDER BY updated_at, id) AS seq FROM {table}) n
                       WHERE t.id = n.id""")
        op.execute(f"""UPDATE reference_clock SET seq = greatest(seq, (SELECT coalesce(max(change_seq), 0)
                                                                      FROM {table}))""")
        op.alter_column(table, 'change_seq', nullable=False)
        op.create_index(op.f(f'ix_{table}_change_seq'), table, ['change_seq'], unique=False)
        op.execute(f"""CREATE TRIGGER {table}_lock_references BEFORE INSERT OR UPDATE ON {table}
                       FOR EACH STATEMENT EXECUTE FUNCTION hazmat_lock_references()""")
        op.execute(f"""CREATE TRIGGER {table}_changed BEFORE INSERT OR UPDATE ON {table}
                       FOR EACH ROW EXECUTE FUNCTION hazmat_reference_changed()""")
    op.drop_constraint('pk_filling_records', 'filling_records')
    op.create_primary_key('pk_filling_records', 'filling_records', ['station_id', 'id'])


def downgrade() -> None:
    op.drop_constraint('pk_filling_records', 'filling_records')
    op.execute("""DELETE FROM filling_records f USING filling_records g
                  WHERE f.id = g.id AND (f.received_at, f.station_id) > (g.received_at, g.station_id)""")
    op.create_primary_key('pk_filling_records', 'filling_records', ['id'])
    for table in ('geofences', 'waybills'):
        op.execute(f"DROP TRIGGER {table}_changed ON {table}")
        op.execute(f"DROP TRIGGER {table}_lock_references ON {table}")
        op.drop_index(op.f(f'ix_{table}_change_seq'), table_name=table)
        op.drop_column(table, 'change_seq')
    op.execute("DROP FUNCTION hazmat_reference_changed()")
    op.execute("DROP FUNCTION hazmat_lock_references()")
    op.drop_table('reference_clock')

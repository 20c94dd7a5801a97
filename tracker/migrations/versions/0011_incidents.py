"""the incident desk (事故处置): sites, the bureau's hazard figures, incidents

`sites` are the places an incident's zones are checked against (schools, hospitals, fire
stations: points or grounds); `hazard_overrides` the emergency bureau's own figures for a
UN number, merged over the shipped ERG catalogue; `incidents` each incident with what it
was opened and patched with (`inputs`), the Incident as last computed and `n`, the number
of its last event (event ids are `<incident_id>.<n>`).

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_geospatial_table('sites',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('properties', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('geom', Geometry(srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sites'))
    )
    op.create_geospatial_index('idx_sites_geom', 'sites', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_sites_kind'), 'sites', ['kind'], unique=False)
    op.create_table('hazard_overrides',
    sa.Column('un_number', sa.Text(), nullable=False),
    sa.Column('row', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('by', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('un_number', name=op.f('pk_hazard_overrides'))
    )
    op.create_table('incidents',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('plate', sa.Text(), nullable=True),
    sa.Column('carrier_id', sa.Text(), nullable=True),
    sa.Column('lat', sa.Double(), nullable=False),
    sa.Column('lon', sa.Double(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('inputs', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('incident', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_incidents_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents'))
    )
    op.create_index('ix_incidents_opened_at', 'incidents', ['opened_at'], unique=False)
    op.create_index(op.f('ix_incidents_status'), 'incidents', ['status'], unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM geofences WHERE kind = 'incident_zone'")
    op.drop_index(op.f('ix_incidents_status'), table_name='incidents')
    op.drop_index('ix_incidents_opened_at', table_name='incidents')
    op.drop_table('incidents')
    op.drop_table('hazard_overrides')
    op.drop_index(op.f('ix_sites_kind'), table_name='sites')
    op.drop_geospatial_index('idx_sites_geom', table_name='sites', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('sites')

"""foundation: registry, keys, batches, stamp ranges

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 02:18:13.209950
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('material_areas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('material', sa.String(length=200), nullable=False),
    sa.Column('growing_area_code', sa.String(length=80), nullable=True),
    sa.Column('code_issuer', sa.String(length=200), nullable=True),
    sa.Column('code_scope', sa.Enum('domestic', 'export', name='codescope', native_enum=False, length=32), nullable=True),
    sa.Column('code_issued_on', sa.Date(), nullable=True),
    sa.Column('code_status', sa.Enum('active', 'suspended', 'cancelled', name='codestatus', native_enum=False, length=32), nullable=True),
    sa.Column('commune', sa.String(length=120), nullable=False),
    sa.Column('district', sa.String(length=120), nullable=True),
    sa.Column('province', sa.String(length=120), nullable=False),
    sa.Column('province_code', sa.String(length=2), nullable=False),
    sa.Column('address_scheme', sa.Enum('pre2025', '2025', name='addressscheme', native_enum=False, length=32), nullable=False),
    sa.Column('latitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('longitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('boundary_geojson', sa.Text(), nullable=True),
    sa.Column('size_ha', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('certifications', sa.JSON(), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.CheckConstraint('latitude IS NULL OR (latitude BETWEEN -90 AND 90)', name=op.f('ck_material_areas_latitude_range')),
    sa.CheckConstraint('longitude IS NULL OR (longitude BETWEEN -180 AND 180)', name=op.f('ck_material_areas_longitude_range')),
    sa.CheckConstraint('size_ha IS NULL OR size_ha > 0', name=op.f('ck_material_areas_size_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_material_areas')),
    sa.UniqueConstraint('code', name=op.f('uq_material_areas_code'))
    )
    op.create_table('producers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('short_name', sa.String(length=60), nullable=False),
    sa.Column('type', sa.Enum('cooperative', 'cooperative_group', 'enterprise', 'farm', 'household', 'association', 'operating_centre', name='producertype', native_enum=False, length=32), nullable=False),
    sa.Column('tax_code', sa.String(length=20), nullable=True),
    sa.Column('phone', sa.String(length=30), nullable=True),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('address', sa.String(length=500), nullable=False),
    sa.Column('commune', sa.String(length=120), nullable=False),
    sa.Column('district', sa.String(length=120), nullable=True),
    sa.Column('province', sa.String(length=120), nullable=False),
    sa.Column('province_code', sa.String(length=2), nullable=False),
    sa.Column('address_scheme', sa.Enum('pre2025', '2025', name='addressscheme', native_enum=False, length=32), nullable=False),
    sa.Column('address_as_of', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_producers')),
    sa.UniqueConstraint('code', name=op.f('uq_producers_code')),
    sa.UniqueConstraint('tax_code', name=op.f('uq_producers_tax_code'))
    )
    op.create_table('signing_keys',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('public_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('status', sa.Enum('active', 'retired', 'compromised', name='keystatus', native_enum=False, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('compromised_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_trusted_batch_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint('id BETWEEN 1 AND 65535', name=op.f('ck_signing_keys_kid_u16')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signing_keys'))
    )
    op.create_table('area_producers',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('producer_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['material_areas.id'], name=op.f('fk_area_producers_area_id_material_areas'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['producer_id'], ['producers.id'], name=op.f('fk_area_producers_producer_id_producers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('area_id', 'producer_id', name=op.f('pk_area_producers'))
    )
    op.create_table('products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('producer_id', sa.Integer(), nullable=False),
    sa.Column('product_set', sa.String(length=16), nullable=False),
    sa.Column('gtin', sa.String(length=14), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('image_url', sa.String(length=500), nullable=True),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('id < 16777216', name=op.f('ck_products_id_fits_stamp')),
    sa.ForeignKeyConstraint(['producer_id'], ['producers.id'], name=op.f('fk_products_producer_id_producers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products')),
    sa.UniqueConstraint('code', name=op.f('uq_products_code')),
    sa.UniqueConstraint('gtin', name=op.f('uq_products_gtin'))
    )
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_products_producer_id'), ['producer_id'], unique=False)

    op.create_table('certifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('stars', sa.Integer(), nullable=False),
    sa.Column('score', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('application_type', sa.Enum('first', 'upgrade', 'reevaluation', name='applicationtype', native_enum=False, length=32), nullable=False),
    sa.Column('decision_number', sa.String(length=60), nullable=False),
    sa.Column('decision_date', sa.Date(), nullable=False),
    sa.Column('authority', sa.String(length=200), nullable=False),
    sa.Column('authority_level', sa.Enum('national', 'provincial', 'district', name='authoritylevel', native_enum=False, length=32), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('recognized', 'expired', 'in_reevaluation', 'revoked', 'superseded', name='certificationstatus', native_enum=False, length=32), nullable=False),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.CheckConstraint('score >= 0 AND score <= 100', name=op.f('ck_certifications_score_range')),
    sa.CheckConstraint('stars BETWEEN 3 AND 5', name=op.f('ck_certifications_stars_certified')),
    sa.CheckConstraint('valid_until > decision_date', name=op.f('ck_certifications_validity_after_decision')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_certifications_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certifications'))
    )
    with op.batch_alter_table('certifications', schema=None) as batch_op:
        batch_op.create_index('ix_certifications_product_decision', ['product_id', 'decision_date'], unique=False)

    op.create_table('product_areas',
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['material_areas.id'], name=op.f('fk_product_areas_area_id_material_areas'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_product_areas_product_id_products'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('product_id', 'area_id', name=op.f('pk_product_areas'))
    )
    op.create_table('batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('certification_id', sa.Integer(), nullable=True),
    sa.Column('key_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('requested', 'rejected', 'issued', 'revoked', name='batchstatus', native_enum=False, length=32), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('lot', sa.String(length=60), nullable=True),
    sa.Column('production_date', sa.Date(), nullable=True),
    sa.Column('expiry_date', sa.Date(), nullable=True),
    sa.Column('layout', sa.String(length=40), nullable=True),
    sa.Column('stars', sa.Integer(), nullable=True),
    sa.Column('valid_until_month', sa.Integer(), nullable=True),
    sa.Column('secret', sa.LargeBinary(length=32), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('requested_by', sa.String(length=200), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=200), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revocation_reason', sa.Text(), nullable=True),
    sa.CheckConstraint('id < 4294967296', name=op.f('ck_batches_id_fits_stamp')),
    sa.CheckConstraint('quantity BETWEEN 1 AND 16777216', name=op.f('ck_batches_quantity_fits_stamp')),
    sa.ForeignKeyConstraint(['certification_id'], ['certifications.id'], name=op.f('fk_batches_certification_id_certifications')),
    sa.ForeignKeyConstraint(['key_id'], ['signing_keys.id'], name=op.f('fk_batches_key_id_signing_keys')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_batches_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batches')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batches_product_id'), ['product_id'], unique=False)

    op.create_table('stamp_ranges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('start', sa.Integer(), nullable=False),
    sa.Column('end', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('issued', 'printed', 'activated', 'voided', 'revoked', name='rangestate', native_enum=False, length=32), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_by', sa.String(length=200), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.CheckConstraint('start >= 0 AND start < "end"', name=op.f('ck_stamp_ranges_range_order')),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_stamp_ranges_batch_id_batches'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stamp_ranges'))
    )
    with op.batch_alter_table('stamp_ranges', schema=None) as batch_op:
        batch_op.create_index('ix_stamp_ranges_batch_start', ['batch_id', 'start'], unique=True)



def downgrade() -> None:
    with op.batch_alter_table('stamp_ranges', schema=None) as batch_op:
        batch_op.drop_index('ix_stamp_ranges_batch_start')

    op.drop_table('stamp_ranges')
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batches_product_id'))

    op.drop_table('batches')
    op.drop_table('product_areas')
    with op.batch_alter_table('certifications', schema=None) as batch_op:
        batch_op.drop_index('ix_certifications_product_decision')

    op.drop_table('certifications')
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_products_producer_id'))

    op.drop_table('products')
    op.drop_table('area_producers')
    op.drop_table('signing_keys')
    op.drop_table('producers')
    op.drop_table('material_areas')

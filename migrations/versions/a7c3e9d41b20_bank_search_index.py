"""bank search index: the material's search columns, PostgreSQL's tsvector and GIN index,
SQLite's FTS5 table (hub/archive/search_schema.py), filled for the materials already there

Revision ID: a7c3e9d41b20
Revises: 6e83edc39877
Create Date: 2026-12-03 18:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

from hub.archive import search_index, search_schema


# revision identifiers, used by Alembic.
revision = 'a7c3e9d41b20'
down_revision = '6e83edc39877'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('material', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_title', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('search_description', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('search_tags', sa.Text(), nullable=False, server_default=''))
    search_schema.create(op.get_bind())
    search_index.reindex_all(op.get_bind())


def downgrade():
    search_schema.drop(op.get_bind())
    with op.batch_alter_table('material', schema=None) as batch_op:
        batch_op.drop_column('search_tags')
        batch_op.drop_column('search_description')
        batch_op.drop_column('search_title')

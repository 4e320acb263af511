"""groups and owners: slices belong to a group, boxes know their node's owners, and the
group facts read model (which groups may have slices, their quotas)

Slices made before groups keep a null group_id (operators manage them); boxes added before
owners travelled with devices keep null owners (operators see their credentials) until
their node's next owner change.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from guificloud.db.group_facts import TABLE, define_group_facts_table

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SCHEMA = "provisioner"


def upgrade() -> None:
    define_group_facts_table(sa.MetaData(schema=SCHEMA)).create(op.get_bind())
    op.add_column("slices", sa.Column("group_id", postgresql.UUID(), nullable=True), schema=SCHEMA)
    op.create_index(op.f("ix_provisioner_slices_group_id"), "slices", ["group_id"], schema=SCHEMA)
    for column in ("owner_account_id", "owner_group_id"):
        op.add_column("boxes", sa.Column(column, postgresql.UUID(), nullable=True), schema=SCHEMA)


def downgrade() -> None:
    for column in ("owner_account_id", "owner_group_id"):
        op.drop_column("boxes", column, schema=SCHEMA)
    op.drop_index(op.f("ix_provisioner_slices_group_id"), table_name="slices", schema=SCHEMA)
    op.drop_column("slices", "group_id", schema=SCHEMA)
    op.drop_table(TABLE, schema=SCHEMA)

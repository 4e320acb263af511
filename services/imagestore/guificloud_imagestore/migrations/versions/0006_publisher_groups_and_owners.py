"""publisher groups and owners: the group each image is published for and the account that
published it, the account that opened each upload session, and the identity service's
group facts (image quotas)

Images and sessions from before have none: images of the deployment, sessions operators
finish or cancel.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SCHEMA = "imagestore"


def upgrade() -> None:
    op.create_table(
        "group_facts",
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("allow_nodes", sa.Boolean(), nullable=False),
        sa.Column("allow_slices", sa.Boolean(), nullable=False),
        sa.Column("quotas", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("group_id"),
        schema=SCHEMA,
    )
    op.add_column("images", sa.Column("group_id", sa.Uuid(), nullable=True), schema=SCHEMA)
    op.add_column("images", sa.Column("published_by", sa.Uuid(), nullable=True), schema=SCHEMA)
    op.create_index(
        op.f("ix_imagestore_images_group_id"), "images", ["group_id"], unique=False, schema=SCHEMA
    )
    op.add_column("uploads", sa.Column("opened_by", sa.Uuid(), nullable=True), schema=SCHEMA)
    op.create_index(
        op.f("ix_imagestore_uploads_opened_by"),
        "uploads",
        ["opened_by"],
        unique=False,
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_imagestore_uploads_opened_by"), table_name="uploads", schema=SCHEMA)
    op.drop_column("uploads", "opened_by", schema=SCHEMA)
    op.drop_index(op.f("ix_imagestore_images_group_id"), table_name="images", schema=SCHEMA)
    op.drop_column("images", "published_by", schema=SCHEMA)
    op.drop_column("images", "group_id", schema=SCHEMA)
    op.drop_table("group_facts", schema=SCHEMA)

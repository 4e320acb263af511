"""Who a node belongs to (an account, a group, or both), and what the registry knows of the
identity service's groups (``group_facts``: may a group have nodes).

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


def upgrade() -> None:
    for column in ("owner_account_id", "owner_group_id"):
        op.add_column("nodes", sa.Column(column, sa.Uuid(), nullable=True), schema="registry")
        op.create_index(
            op.f(f"ix_registry_nodes_{column}"), "nodes", [column], unique=False, schema="registry"
        )
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
        schema="registry",
    )


def downgrade() -> None:
    op.drop_table("group_facts", schema="registry")
    for column in ("owner_group_id", "owner_account_id"):
        op.drop_index(op.f(f"ix_registry_nodes_{column}"), table_name="nodes", schema="registry")
        op.drop_column("nodes", column, schema="registry")

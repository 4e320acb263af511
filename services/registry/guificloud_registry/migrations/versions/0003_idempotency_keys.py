"""idempotency keys: the response to each keyed creating request, kept for its retries

Revision ID: 0003
Revises: 0002
"""

from guificloud.db.idempotency import create_idempotency_table, drop_idempotency_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_idempotency_table("registry")


def downgrade() -> None:
    drop_idempotency_table("registry")

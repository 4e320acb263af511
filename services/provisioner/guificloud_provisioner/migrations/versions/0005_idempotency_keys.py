"""idempotency keys: the response to each keyed creating request, kept for its retries

Revision ID: 0005
Revises: 0004
"""

from guificloud.db.idempotency import create_idempotency_table, drop_idempotency_table

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_idempotency_table("provisioner")


def downgrade() -> None:
    drop_idempotency_table("provisioner")

"""trusted key names: the image names each publisher key may sign, handed to boxes

Null for a key announced by an image store before keys had names.

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
    op.add_column(
        "trusted_keys",
        sa.Column("names", postgresql.ARRAY(sa.String(length=128)), nullable=True),
        schema="provisioner",
    )


def downgrade() -> None:
    op.drop_column("trusted_keys", "names", schema="provisioner")

"""box tokens stored as hashes: the sha256 (hex) of each box's token replaces the token

A box's current token keeps working (its hash is computed here); the clear tokens are
dropped. A downgrade cannot bring them back: boxes then have none until their
configuration is fetched again.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SCHEMA = "provisioner"


def upgrade() -> None:
    op.add_column("boxes", sa.Column("token_hash", sa.String(length=64)), schema=SCHEMA)
    op.execute(
        f"UPDATE {SCHEMA}.boxes SET token_hash = encode(sha256(convert_to(token, 'UTF8')), 'hex')"
        " WHERE token IS NOT NULL"
    )
    op.drop_column("boxes", "token", schema=SCHEMA)


def downgrade() -> None:
    op.add_column("boxes", sa.Column("token", sa.String(length=128)), schema=SCHEMA)
    op.drop_column("boxes", "token_hash", schema=SCHEMA)

"""publisher key names: the image names (or patterns) each trusted key may sign

Keys trusted before get ``*``: any name but the reserved distro's, which an operator then
binds explicitly (revoke and add the key again with its names).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "publisher_keys",
        sa.Column(
            "names",
            postgresql.ARRAY(sa.String(length=128)),
            server_default="{*}",
            nullable=False,
        ),
        schema="imagestore",
    )


def downgrade() -> None:
    op.drop_column("publisher_keys", "names", schema="imagestore")

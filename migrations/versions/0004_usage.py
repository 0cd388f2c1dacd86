"""A covering index for the usage statistics and the records list.

The stats of a 30-day window aggregate a third of a large ledger; with every column they read
in the index, the scan never touches the table (index-only). Paging the records list walks the
same index. Created with IF NOT EXISTS so an adopted database gains it too.

Revision ID: 0004_usage
Revises: 0003_task_search
Create Date: 2026-11-26
"""

from alembic import op

revision = "0004_usage"
down_revision = "0003_task_search"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_token_usage_created_cover ON token_usage (created_at) "
        "INCLUDE (id, source, source_name, cost_usd, input_tokens, output_tokens)"
    )


def downgrade():
    op.execute("DROP INDEX IF EXISTS ix_token_usage_created_cover")

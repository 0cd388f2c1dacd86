"""The 17 tables of Cognova's schema, exactly as the TypeScript version created them.

A database made by that version is adopted by stamping this revision (see cognova/boot.py).

Revision ID: 0001_schema
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001_schema"
down_revision = None
branch_labels = None
depends_on = None

NOW = sa.text("now()")
UUID_DEFAULT = sa.text("gen_random_uuid()")
TS = sa.DateTime(timezone=True)


def uuid_pk():
    return sa.Column("id", sa.Uuid(), primary_key=True, server_default=UUID_DEFAULT)


def user_fk(name):
    return sa.Column(name, sa.Text(), sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True)


def created():
    return sa.Column("created_at", TS, nullable=False, server_default=NOW)


def upgrade():
    op.create_table(
        "user",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False, unique=True),
        sa.Column("email_verified", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("image", sa.Text()),
        created(),
        sa.Column("updated_at", TS, nullable=False, server_default=NOW),
    )
    op.create_table(
        "session",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column(
            "user_id", sa.Text(), sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("token", sa.Text(), nullable=False, unique=True),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("ip_address", sa.Text()),
        sa.Column("user_agent", sa.Text()),
        created(),
        sa.Column("updated_at", TS, nullable=False, server_default=NOW),
    )
    op.create_table(
        "account",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column(
            "user_id", sa.Text(), sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("provider_id", sa.Text(), nullable=False),
        sa.Column("access_token", sa.Text()),
        sa.Column("refresh_token", sa.Text()),
        sa.Column("access_token_expires_at", TS),
        sa.Column("refresh_token_expires_at", TS),
        sa.Column("scope", sa.Text()),
        sa.Column("id_token", sa.Text()),
        sa.Column("password", sa.Text()),
        created(),
        sa.Column("updated_at", TS, nullable=False, server_default=NOW),
    )
    op.create_table(
        "verification",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("identifier", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        created(),
        sa.Column("updated_at", TS, nullable=False, server_default=NOW),
    )
    op.create_table(
        "projects",
        uuid_pk(),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("color", sa.Text(), nullable=False),
        sa.Column("description", sa.Text()),
        created(),
        sa.Column("modified_at", TS),
        sa.Column("deleted_at", TS),
        user_fk("created_by"),
        user_fk("modified_by"),
        user_fk("deleted_by"),
    )
    op.create_table(
        "tasks",
        uuid_pk(),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("status", sa.Text(), nullable=False, server_default=sa.text("'todo'")),
        sa.Column("priority", sa.Integer(), nullable=False, server_default=sa.text("2")),
        sa.Column("project_id", sa.Uuid(), sa.ForeignKey("projects.id", ondelete="SET NULL")),
        sa.Column("due_date", TS),
        sa.Column(
            "tags",
            postgresql.ARRAY(sa.Text()),
            nullable=False,
            server_default=sa.text("'{}'::text[]"),
        ),
        created(),
        sa.Column("modified_at", TS),
        sa.Column("completed_at", TS),
        sa.Column("deleted_at", TS),
        user_fk("created_by"),
        user_fk("modified_by"),
        user_fk("deleted_by"),
    )
    op.create_table(
        "reminders",
        uuid_pk(),
        sa.Column("task_id", sa.Uuid(), sa.ForeignKey("tasks.id", ondelete="CASCADE")),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("remind_at", TS, nullable=False),
        sa.Column("notified", sa.Boolean(), nullable=False, server_default=sa.false()),
        created(),
    )
    op.create_table(
        "documents",
        uuid_pk(),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False, unique=True),
        sa.Column("content", sa.Text()),
        sa.Column("content_hash", sa.Text()),
        sa.Column(
            "tags",
            postgresql.ARRAY(sa.Text()),
            nullable=False,
            server_default=sa.text("'{}'::text[]"),
        ),
        sa.Column("project_id", sa.Uuid(), sa.ForeignKey("projects.id", ondelete="SET NULL")),
        sa.Column("shared", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("share_type", sa.Text()),
        sa.Column("file_type", sa.Text(), nullable=False),
        sa.Column("mime_type", sa.Text()),
        sa.Column("synced_at", TS),
        created(),
        user_fk("created_by"),
        sa.Column("modified_at", TS),
        user_fk("modified_by"),
        sa.Column("deleted_at", TS),
        user_fk("deleted_by"),
    )
    op.create_table(
        "conversations",
        uuid_pk(),
        sa.Column("session_id", sa.Text(), nullable=False, unique=True),
        sa.Column("sdk_session_id", sa.Text()),
        sa.Column("title", sa.Text()),
        sa.Column("summary", sa.Text()),
        sa.Column("status", sa.Text(), nullable=False, server_default=sa.text("'idle'")),
        sa.Column("total_cost_usd", sa.REAL(), nullable=False, server_default=sa.text("0")),
        sa.Column("started_at", TS, nullable=False, server_default=NOW),
        sa.Column("ended_at", TS),
        sa.Column("message_count", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.create_table(
        "conversation_messages",
        uuid_pk(),
        sa.Column(
            "conversation_id",
            sa.Uuid(),
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("cost_usd", sa.REAL()),
        sa.Column("duration_ms", sa.Integer()),
        created(),
    )
    op.create_table(
        "cron_agents",
        uuid_pk(),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("schedule", sa.Text(), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("max_turns", sa.Integer(), server_default=sa.text("50")),
        sa.Column("max_budget_usd", sa.REAL()),
        sa.Column("last_run_at", TS),
        sa.Column("last_status", sa.Text()),
        created(),
        sa.Column("updated_at", TS, nullable=False, server_default=NOW),
        user_fk("created_by"),
    )
    op.create_table(
        "cron_agent_runs",
        uuid_pk(),
        sa.Column(
            "agent_id",
            sa.Uuid(),
            sa.ForeignKey("cron_agents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("output", sa.Text()),
        sa.Column("error", sa.Text()),
        sa.Column("cost_usd", sa.REAL()),
        sa.Column("input_tokens", sa.Integer()),
        sa.Column("output_tokens", sa.Integer()),
        sa.Column("num_turns", sa.Integer()),
        sa.Column("started_at", TS, nullable=False, server_default=NOW),
        sa.Column("completed_at", TS),
        sa.Column("duration_ms", sa.Integer()),
    )
    op.create_table(
        "secrets",
        uuid_pk(),
        sa.Column("key", sa.Text(), nullable=False, unique=True),
        sa.Column("encrypted_value", sa.Text(), nullable=False),
        sa.Column("iv", sa.Text(), nullable=False),
        sa.Column("description", sa.Text()),
        created(),
        sa.Column("updated_at", TS, nullable=False, server_default=NOW),
        user_fk("created_by"),
    )
    op.create_table(
        "hook_events",
        uuid_pk(),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("session_id", sa.Text()),
        sa.Column("project_dir", sa.Text()),
        sa.Column("tool_name", sa.Text()),
        sa.Column("tool_matcher", sa.Text()),
        sa.Column("event_data", sa.Text()),
        sa.Column("exit_code", sa.Integer()),
        sa.Column("blocked", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("block_reason", sa.Text()),
        sa.Column("duration_ms", sa.Integer()),
        sa.Column("hook_script", sa.Text()),
        created(),
    )
    op.create_table(
        "memory_chunks",
        uuid_pk(),
        sa.Column("session_id", sa.Text()),
        sa.Column("project_path", sa.Text()),
        sa.Column("chunk_type", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("source_excerpt", sa.Text()),
        sa.Column("relevance_score", sa.REAL(), nullable=False, server_default=sa.text("1.0")),
        sa.Column("access_count", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("last_accessed_at", TS),
        created(),
        sa.Column("expires_at", TS),
    )
    op.create_table(
        "token_usage",
        uuid_pk(),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_id", sa.Text()),
        sa.Column("source_name", sa.Text()),
        sa.Column("input_tokens", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("output_tokens", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("cost_usd", sa.REAL(), nullable=False, server_default=sa.text("0")),
        sa.Column("duration_ms", sa.Integer()),
        sa.Column("num_turns", sa.Integer()),
        created(),
    )
    op.create_table(
        "user_settings",
        uuid_pk(),
        sa.Column(
            "user_id",
            sa.Text(),
            sa.ForeignKey("user.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("settings", sa.Text(), nullable=False, server_default=sa.text("'{}'")),
        created(),
        sa.Column("updated_at", TS, nullable=False, server_default=NOW),
    )


def downgrade():
    for table in (
        "user_settings",
        "token_usage",
        "memory_chunks",
        "hook_events",
        "secrets",
        "cron_agent_runs",
        "cron_agents",
        "conversation_messages",
        "conversations",
        "documents",
        "reminders",
        "tasks",
        "projects",
        "verification",
        "account",
        "session",
        "user",
    ):
        op.drop_table(table)

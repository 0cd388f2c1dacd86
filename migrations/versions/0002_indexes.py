"""Indexes the queries need. Created with IF NOT EXISTS so an adopted database gains them too.

Revision ID: 0002_indexes
Revises: 0001_schema
Create Date: 2026-11-26
"""

from alembic import op

revision = "0002_indexes"
down_revision = "0001_schema"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_session_user_id", "session", "(user_id)", ""),
    ("ix_account_user_id", "account", "(user_id)", ""),
    ("ix_tasks_tags", "tasks", "USING gin (tags)", ""),
    ("ix_tasks_project_id", "tasks", "(project_id)", ""),
    ("ix_tasks_live_created", "tasks", "(created_at)", "WHERE deleted_at IS NULL"),
    ("ix_tasks_live_due", "tasks", "(due_date)", "WHERE deleted_at IS NULL"),
    ("ix_reminders_pending", "reminders", "(remind_at)", "WHERE NOT notified"),
    ("ix_reminders_task_id", "reminders", "(task_id)", ""),
    ("ix_documents_tags", "documents", "USING gin (tags)", ""),
    ("ix_documents_content_hash", "documents", "(content_hash)", ""),
    ("ix_documents_project_id", "documents", "(project_id)", ""),
    ("ix_conversations_started_at", "conversations", "(started_at)", ""),
    (
        "ix_conversation_messages_conversation",
        "conversation_messages",
        "(conversation_id, created_at)",
        "",
    ),
    ("ix_cron_agent_runs_agent_started", "cron_agent_runs", "(agent_id, started_at)", ""),
    ("ix_cron_agent_runs_started", "cron_agent_runs", "(started_at)", ""),
    ("ix_cron_agent_runs_running", "cron_agent_runs", "(agent_id)", "WHERE status = 'running'"),
    ("ix_hook_events_created_at", "hook_events", "(created_at)", ""),
    ("ix_hook_events_session", "hook_events", "(session_id, created_at)", ""),
    ("ix_memory_chunks_relevance", "memory_chunks", "(relevance_score, created_at)", ""),
    ("ix_memory_chunks_project", "memory_chunks", "(project_path)", ""),
    ("ix_memory_chunks_created_at", "memory_chunks", "(created_at)", ""),
    ("ix_token_usage_created_at", "token_usage", "(created_at)", ""),
    ("ix_token_usage_source_created", "token_usage", "(source, created_at)", ""),
]


def upgrade():
    for name, table, columns, where in INDEXES:
        op.execute(f'CREATE INDEX IF NOT EXISTS {name} ON "{table}" {columns} {where}'.strip())


def downgrade():
    for name, _table, _columns, _where in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")

"""SQLAlchemy models of the 17 tables, one module per schema area."""

from cognova.models.agents import CronAgent, CronAgentRun
from cognova.models.auth import Account, Session, User, Verification
from cognova.models.base import Base
from cognova.models.conversations import Conversation, ConversationMessage
from cognova.models.documents import Document
from cognova.models.system import HookEvent, MemoryChunk, Secret, TokenUsage, UserSettings
from cognova.models.tasks import Project, Reminder, Task

__all__ = [
    "Account",
    "Base",
    "Conversation",
    "ConversationMessage",
    "CronAgent",
    "CronAgentRun",
    "Document",
    "HookEvent",
    "MemoryChunk",
    "Project",
    "Reminder",
    "Secret",
    "Session",
    "Task",
    "TokenUsage",
    "User",
    "UserSettings",
    "Verification",
]

"""Chat jobs: one turn of a conversation, and its title afterwards."""

from __future__ import annotations

from cognova.jobs import job
from cognova.services import chat


@job("chat", timeout=30 * 60, result_ttl=3600)
def run_turn(conversation_id: str, turn_id: str, user_id: str | None) -> str:
    """Run the agent loop for one user message; its events go to the turn's Redis stream."""
    return chat.execute_turn(conversation_id, turn_id, user_id)


@job("default", timeout=120, result_ttl=3600)
def generate_title(conversation_id: str) -> str | None:
    return chat.generate_title(conversation_id)

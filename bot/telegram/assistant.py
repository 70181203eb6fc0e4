"""Talking to the assistant: Rasa's REST channel for messages, its HTTP API for the tracker."""
from __future__ import annotations

import logging
from typing import Any

import httpx

log = logging.getLogger(__name__)

# What a load balancer answers when the replica it chose died or is down.
REPLICA_GONE_STATUSES = (502, 503, 504)


class AssistantUnavailable(Exception):
    """Rasa or the action server is down, slow, or answered nothing."""


class ReplicaGone(AssistantUnavailable):
    """The Rasa server the request reached went away before answering (behind a load balancer: 502, 503, 504,
    or no connection); another replica may answer at once."""


class AssistantSilent(AssistantUnavailable):
    """Rasa took the message and answered nothing (its actions failed, or the conversation is paused)."""


class AssistantClient:
    def __init__(self, rasa_url: str, action_health_url: str | None, timeout: float, token: str | None = None):
        self.rasa_url = rasa_url.rstrip("/")
        self.action_health_url = action_health_url
        self._params = {"token": token} if token else {}
        self._http = httpx.AsyncClient(timeout=timeout)

    async def close(self) -> None:
        await self._http.aclose()

    async def send(self, sender_id: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        """The assistant's replies to one message.

        The action server is checked first: Rasa records a message even when
        its actions cannot run, and would then answer nothing.
        """
        await self._check_action_server()
        try:
            response = await self._http.post(
                f"{self.rasa_url}/webhooks/rest/webhook", json={"sender": sender_id, "message": text, "metadata": metadata}
            )
        except (httpx.ConnectError, httpx.RemoteProtocolError) as error:
            raise ReplicaGone(f"Rasa: {type(error).__name__}") from error
        except httpx.HTTPError as error:
            raise AssistantUnavailable(f"Rasa: {type(error).__name__}") from error
        if response.status_code in REPLICA_GONE_STATUSES:
            raise ReplicaGone(f"Rasa answered HTTP {response.status_code}")
        if response.status_code != 200:
            raise AssistantUnavailable(f"Rasa answered HTTP {response.status_code}")
        replies = response.json()
        if not replies:
            raise AssistantSilent("Rasa answered nothing")
        return replies

    async def _check_action_server(self) -> None:
        if not self.action_health_url:
            return
        try:
            response = await self._http.get(self.action_health_url, timeout=5)
        except httpx.HTTPError as error:
            raise AssistantUnavailable(f"action server: {type(error).__name__}") from error
        if response.status_code != 200:
            raise AssistantUnavailable(f"action server answered HTTP {response.status_code}")

    async def add_event(self, sender_id: str, event: str) -> None:
        """``pause`` or ``resume`` (Rasa's ConversationPaused / ConversationResumed)."""
        try:
            response = await self._http.post(
                f"{self.rasa_url}/conversations/{sender_id}/tracker/events",
                params={**self._params, "include_events": "NONE"},
                json={"event": event},
            )
        except httpx.HTTPError as error:
            raise AssistantUnavailable(f"Rasa: {type(error).__name__}") from error
        if response.status_code != 200:
            raise AssistantUnavailable(f"Rasa answered HTTP {response.status_code} to {event}")

    async def tracker(self, sender_id: str, with_events: bool = False) -> dict[str, Any] | None:
        """The conversation's state; its events only when asked, since they grow with every message."""
        params = {**self._params, "include_events": "AFTER_RESTART" if with_events else "NONE"}
        try:
            response = await self._http.get(f"{self.rasa_url}/conversations/{sender_id}/tracker", params=params)
        except httpx.HTTPError:
            return None
        return response.json() if response.status_code == 200 else None


def conversation_language(tracker: dict[str, Any] | None) -> str | None:
    slots = (tracker or {}).get("slots") or {}
    return slots.get("language")


def recent_lines(tracker: dict[str, Any] | None, count: int) -> list[tuple[str, str]]:
    """The last ``count`` texts of the conversation, as (who, text), who being "user" or "bot"."""
    lines = [
        (event["event"], event["text"])
        for event in (tracker or {}).get("events") or []
        if event.get("event") in ("user", "bot") and event.get("text")
    ]
    return lines[-count:]

"""Telling every browser in a meeting room, within a second, that the room changed.

Each browser in a room runs a background task that waits here for the room's version
(:func:`panels.room_view.room_version`, one cheap query) to move, then reads the room again
as its own signed-in person.  In each worker process one poller per meeting reads the version
every :data:`POLL_SECONDS` while at least one browser connected to that worker is in the
room; when it moves, the poller reads what every participant sees
(:func:`panels.room_view.read_room_core`) once for all of them and wakes them.  A change made
in the same worker nudges the poller so it looks at once; with Redis (where Reflex runs
several workers) the nudge is also published on a Redis channel, so every other worker's
poller looks at once too instead of at its next poll.  The version comes from the database,
so changes made by the scheduler or from the command line (which nudge nobody) reach every
browser at the next poll.

What is kept here is only what every participant may see (no case content), and it reaches a
browser only through :func:`panels.room_view.read_room`, which checks its person sits on the
panel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlmodel import Session

from panels.room_view import read_room_core, room_version
from sharing.config import get_settings
from sharing.db import get_engine

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.5  # how stale a browser may be about a change nobody announced
CHANNEL = "portal:meeting-room-changed"  # Redis channel: the id of a meeting whose room changed
LINGER_SECONDS = 10.0  # a poller outlives its last browser this long (they come back between waits)


def read_room_version(meeting_id: int) -> str:
    with Session(get_engine()) as session:
        return room_version(session, meeting_id)


def read_room_state(meeting_id: int) -> tuple[str, Any]:
    """What every participant sees, with the version it was read at."""
    with Session(get_engine()) as session:
        core = read_room_core(session, meeting_id)
        return core.version, core


class Change(NamedTuple):
    version: str
    state: Any  # what ``read_state`` gave for this version


@dataclass
class _Room:
    loop: asyncio.AbstractEventLoop
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    nudged: asyncio.Event = field(default_factory=asyncio.Event)
    version: str | None = None
    state: Any = None
    waiting: int = 0
    idle_since: float = field(default_factory=time.monotonic)
    poller: asyncio.Task[None] | None = None


class RedisFanOut:
    """Rooms' nudges shared between workers through Redis publish/subscribe.

    Publishing is fire-and-forget (a lost message costs at most one poll interval) and never
    fails the change that caused it."""

    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        self.url = url
        self.channel = channel
        self._client: Any = None

    def publish(self, meeting_id: int) -> None:
        try:
            if self._client is None:
                import redis

                self._client = redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
            self._client.publish(self.channel, str(meeting_id))
        except Exception:
            logger.warning("Could not announce a change to meeting room %s", meeting_id, exc_info=True)
            self._client = None

    async def listen(self, on_change: Callable[[int], None]) -> None:
        """Call ``on_change(meeting_id)`` for every announced change, until cancelled;
        reconnect after a failure."""
        import redis.asyncio as aioredis

        while True:
            client = aioredis.Redis.from_url(self.url)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            with contextlib.suppress(ValueError):
                                on_change(int(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("Lost the meeting rooms' Redis channel; reconnecting", exc_info=True)
                await asyncio.sleep(1)
            finally:
                with contextlib.suppress(Exception):
                    await client.aclose()


class RoomChanges:
    """The per-worker pollers of meeting rooms, and the browsers waiting on them."""

    def __init__(
        self,
        read_version: Callable[[int], str] = read_room_version,
        read_state: Callable[[int], tuple[str, Any]] | None = read_room_state,
        *,
        poll_seconds: float = POLL_SECONDS,
        linger_seconds: float = LINGER_SECONDS,
        fan_out: RedisFanOut | None = None,
    ) -> None:
        self._fan_out = fan_out
        self._listener: asyncio.Task[None] | None = None
        self._read_version = read_version
        self._read_state = read_state
        self._poll_seconds = poll_seconds
        self._linger_seconds = linger_seconds
        self._rooms: dict[int, _Room] = {}

    def _room(self, meeting_id: int) -> _Room:
        room = self._rooms.get(meeting_id)
        if room is None:
            room = self._rooms[meeting_id] = _Room(loop=asyncio.get_running_loop())
        if room.poller is None or room.poller.done():
            room.poller = asyncio.create_task(self._poll(meeting_id, room), name=f"meeting-room-{meeting_id}")
        if self._fan_out is not None and (self._listener is None or self._listener.done()):
            self._listener = asyncio.create_task(self._fan_out.listen(self._nudge_here), name="meeting-rooms-redis")
        return room

    async def wait_for_change(self, meeting_id: int, seen: str, *, timeout: float) -> Change | None:
        """The room's version (and state) once it differs from ``seen``; None if it has not
        within ``timeout`` seconds."""
        room = self._room(meeting_id)
        room.waiting += 1
        try:
            async with room.changed:
                await asyncio.wait_for(
                    room.changed.wait_for(lambda: room.version is not None and room.version != seen), timeout
                )
            assert room.version is not None
            return Change(room.version, room.state)
        except TimeoutError:
            return None
        finally:
            room.waiting -= 1
            room.idle_since = time.monotonic()

    def nudge(self, meeting_id: int) -> None:
        """Something in the room changed here: look now rather than at the next poll, here
        and (with Redis) in every other worker.  Safe to call from any thread."""
        self._nudge_here(meeting_id)
        if self._fan_out is not None:
            self._fan_out.publish(meeting_id)

    def _nudge_here(self, meeting_id: int) -> None:
        room = self._rooms.get(meeting_id)
        if room is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                room.loop.call_soon_threadsafe(room.nudged.set)

    async def _poll(self, meeting_id: int, room: _Room) -> None:
        try:
            while True:
                try:
                    version = await asyncio.to_thread(self._read_version, meeting_id)
                    if version != room.version:
                        state = None
                        if self._read_state is not None:
                            version, state = await asyncio.to_thread(self._read_state, meeting_id)
                        room.version, room.state = version, state
                        async with room.changed:
                            room.changed.notify_all()
                except Exception:  # a database hiccup: keep the last version and try again
                    logger.warning("Could not read meeting room %s", meeting_id, exc_info=True)
                if room.waiting == 0 and time.monotonic() - room.idle_since > self._linger_seconds:
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(room.nudged.wait(), self._poll_seconds)
                room.nudged.clear()
        finally:
            if self._rooms.get(meeting_id) is room:
                del self._rooms[meeting_id]

    def watched_meetings(self) -> list[int]:
        return sorted(self._rooms)


def _fan_out() -> RedisFanOut | None:
    url = get_settings().redis_url
    return RedisFanOut(url) if url else None


ROOM_CHANGES = RoomChanges(fan_out=_fan_out())


async def client_connected(token: str) -> bool:
    """Whether the browser tab with this Reflex client token still has a socket open (to any
    worker).  Reflex keeps background tasks running after a tab closes; the room's watcher
    asks this to stop.  Reflex has no public call for it: this is what its own shared states
    use, and if it cannot tell it says yes (the watcher then stops with the meeting)."""
    try:
        from reflex_base.registry import RegistrationContext

        namespace = RegistrationContext.get().app.event_namespace
        if namespace is None:
            return True
        return bool(await namespace._token_manager.is_token_connected(token))
    except Exception:
        return True

"""The meeting room's change notices: one poller per meeting per worker, however many browsers
wait on it; a nudge wakes them at once; the poller stops when nobody is left."""

from __future__ import annotations

import asyncio
import threading
import uuid

import pytest

from portal.room_updates import Change, RedisFanOut, RoomChanges

LONG = 30.0  # a poll interval no test waits for: only nudges move these tests on


class Versions:
    def __init__(self, **versions: str) -> None:
        self.versions = {int(k.removeprefix("m")): v for k, v in versions.items()}
        self.reads: list[int] = []

    def __call__(self, meeting_id: int) -> str:
        self.reads.append(meeting_id)
        return self.versions[meeting_id]


def test_every_waiter_wakes_on_a_nudge_and_one_read_serves_them_all() -> None:
    async def scenario() -> None:
        versions = Versions(m1="a")
        changes = RoomChanges(versions, None, poll_seconds=LONG)
        assert await changes.wait_for_change(1, "", timeout=5) == Change("a", None)  # the first read answers at once
        assert await changes.wait_for_change(1, "a", timeout=0.01) is None  # nothing moved
        reads_before = len(versions.reads)
        waiters = [asyncio.create_task(changes.wait_for_change(1, "a", timeout=5)) for _ in range(30)]
        await asyncio.sleep(0)  # let them start waiting
        versions.versions[1] = "b"
        changes.nudge(1)
        assert await asyncio.gather(*waiters) == [Change("b", None)] * 30
        assert len(versions.reads) - reads_before == 1
        assert changes.watched_meetings() == [1]

    asyncio.run(scenario())


def test_a_waiter_behind_the_times_is_answered_without_waiting() -> None:
    async def scenario() -> None:
        versions = Versions(m1="c")
        changes = RoomChanges(versions, None, poll_seconds=LONG)
        assert await changes.wait_for_change(1, "c", timeout=0.01) is None
        assert await changes.wait_for_change(1, "b", timeout=5) == Change("c", None)

    asyncio.run(scenario())


def test_rooms_are_watched_separately_and_nudged_from_any_thread() -> None:
    async def scenario() -> None:
        versions = Versions(m1="a", m2="x")
        changes = RoomChanges(versions, None, poll_seconds=LONG)
        assert await changes.wait_for_change(1, "", timeout=5) == Change("a", None)
        assert await changes.wait_for_change(2, "", timeout=5) == Change("x", None)
        one = asyncio.create_task(changes.wait_for_change(1, "a", timeout=0.2))
        two = asyncio.create_task(changes.wait_for_change(2, "x", timeout=5))
        await asyncio.sleep(0)
        versions.versions[2] = "y"
        nudger = threading.Thread(target=changes.nudge, args=(2,))  # as a sync handler's thread would
        nudger.start()
        nudger.join()
        assert await two == Change("y", None)
        assert await one is None  # room 1 did not change
        assert changes.watched_meetings() == [1, 2]

    asyncio.run(scenario())


def test_the_poller_stops_when_nobody_is_left_and_starts_again_when_someone_comes() -> None:
    async def scenario() -> None:
        versions = Versions(m1="a")
        changes = RoomChanges(versions, None, poll_seconds=LONG, linger_seconds=0)
        assert await changes.wait_for_change(1, "", timeout=5) == Change("a", None)
        poller = changes._rooms[1].poller
        assert poller is not None
        changes.nudge(1)
        await asyncio.wait_for(poller, 5)
        assert changes.watched_meetings() == []
        versions.versions[1] = "b"
        assert await changes.wait_for_change(1, "a", timeout=5) == Change("b", None)
        changes.nudge(2)  # a room nobody watches: nothing to do

    asyncio.run(scenario())


def test_a_failed_read_keeps_the_last_version() -> None:
    async def scenario() -> None:
        calls: list[int] = []
        failed = threading.Event()

        def flaky(meeting_id: int) -> str:
            calls.append(meeting_id)
            if len(calls) == 2:
                failed.set()
                raise OSError("database went away")
            return "a" if len(calls) == 1 else "b"

        changes = RoomChanges(flaky, None, poll_seconds=LONG)
        assert await changes.wait_for_change(1, "", timeout=5) == Change("a", None)
        waiter = asyncio.create_task(changes.wait_for_change(1, "a", timeout=5))
        changes.nudge(1)  # this read fails: nobody is woken with a made-up version
        assert await asyncio.to_thread(failed.wait, 5)
        changes.nudge(1)
        assert await waiter == Change("b", None)
        assert len(calls) == 3

    asyncio.run(scenario())


def test_what_everyone_sees_is_read_once_per_change_and_handed_to_every_waiter() -> None:
    async def scenario() -> None:
        versions = Versions(m1="a")
        states: list[int] = []

        def read_state(meeting_id: int) -> tuple[str, object]:
            states.append(meeting_id)
            return versions.versions[meeting_id], {"room": versions.versions[meeting_id]}

        changes = RoomChanges(versions, read_state, poll_seconds=LONG)
        assert await changes.wait_for_change(1, "", timeout=5) == Change("a", {"room": "a"})
        waiters = [asyncio.create_task(changes.wait_for_change(1, "a", timeout=5)) for _ in range(10)]
        await asyncio.sleep(0)
        versions.versions[1] = "b"
        changes.nudge(1)
        assert await asyncio.gather(*waiters) == [Change("b", {"room": "b"})] * 10
        assert states == [1, 1]  # once for "a", once for "b"
        changes.nudge(1)  # nothing changed: the version is read, the room is not
        assert await changes.wait_for_change(1, "b", timeout=0.01) is None
        assert states == [1, 1]

    asyncio.run(scenario())


def _redis_url() -> str:
    """A Redis database of its own on this machine's server (the portal's tests use no other)."""
    import redis

    url = "redis://127.0.0.1:6379/13"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("No Redis server at 127.0.0.1:6379")
    return url


def test_with_redis_a_nudge_in_one_worker_wakes_the_rooms_of_the_others() -> None:
    url = _redis_url()

    async def scenario() -> None:
        channel = f"test-rooms-{uuid.uuid4().hex}"
        versions = Versions(m1="a")
        here = RoomChanges(versions, None, poll_seconds=LONG, fan_out=RedisFanOut(url, channel))
        there = RoomChanges(versions, None, poll_seconds=LONG, fan_out=RedisFanOut(url, channel))
        assert await there.wait_for_change(1, "", timeout=5) == Change("a", None)
        assert await here.wait_for_change(1, "", timeout=5) == Change("a", None)
        await asyncio.sleep(0.3)  # both listeners subscribed
        waiting = asyncio.create_task(there.wait_for_change(1, "a", timeout=5))
        await asyncio.sleep(0)
        versions.versions[1] = "b"
        here.nudge(1)  # only "here" is told; "there" polls every LONG seconds
        assert await waiting == Change("b", None)

    asyncio.run(scenario())


def test_an_unreachable_redis_costs_a_poll_not_the_change() -> None:
    async def scenario() -> None:
        versions = Versions(m1="a")
        changes = RoomChanges(
            versions, None, poll_seconds=LONG, fan_out=RedisFanOut("redis://127.0.0.1:1/0", "nowhere")
        )
        assert await changes.wait_for_change(1, "", timeout=5) == Change("a", None)
        waiting = asyncio.create_task(changes.wait_for_change(1, "a", timeout=5))
        await asyncio.sleep(0)
        versions.versions[1] = "b"
        changes.nudge(1)  # publishing fails (logged); the local room still wakes
        assert await waiting == Change("b", None)

    asyncio.run(scenario())

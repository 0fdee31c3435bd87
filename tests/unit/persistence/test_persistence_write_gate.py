"""The SQLite write gate: urgent writers (ingest) go first, but a normal writer is never starved by them."""

from __future__ import annotations

import threading
import time

import pytest

from deliveryhub.adapters.persistence.database import WriteGate


def _wait_queued(gate: WriteGate, n: int) -> None:
    while len(gate._queue) < n:
        time.sleep(0.001)


def _grant_order(gate: WriteGate, holder_urgent: bool, writers: list[tuple[str, bool]]) -> list[str]:
    """A holder takes the gate; the writers (name, urgent) queue behind it one by one, in the order
    given; then the holder lets go. The names in the order the gate let them in."""
    order: list[str] = []
    release_first = threading.Event()

    def first() -> None:
        with gate.hold(urgent=holder_urgent):
            release_first.wait()

    def writer(name: str, urgent: bool) -> None:
        with gate.hold(urgent=urgent):
            order.append(name)

    threads = [threading.Thread(target=first)]
    threads[0].start()
    while not gate._busy:
        time.sleep(0.001)
    for k, (name, urgent) in enumerate(writers, start=1):
        t = threading.Thread(target=writer, args=(name, urgent))
        t.start()
        threads.append(t)
        _wait_queued(gate, k)
    release_first.set()
    for t in threads:
        t.join()
    return order


def test_a_normal_writer_is_overtaken_at_most_max_overtaken_times() -> None:
    # Queue behind the holder, in this order: a normal writer, then six urgent ones.
    names = [("normal", False)] + [(f"u{i}", True) for i in range(1, 7)]
    order = _grant_order(WriteGate(max_overtaken=4), False, names)
    # Four urgent writers overtake it, then it goes -- ahead of the urgent writers still waiting.
    assert order == ["u1", "u2", "u3", "u4", "normal", "u5", "u6"]


def test_normal_writers_keep_their_arrival_order() -> None:
    order = _grant_order(WriteGate(), True, [(name, False) for name in ["a", "b", "c", "d"]])
    assert order == ["a", "b", "c", "d"]


def test_a_normal_writer_gets_through_a_continuous_stream_of_urgent_writers() -> None:
    gate = WriteGate(max_overtaken=4)
    urgent_threads = 4
    stream_len = 3000  # urgent grants in all; the stream ends by count, never by time
    lock = threading.Lock()
    grants = {"urgent": 0}
    normal_seen: dict[str, int] = {}
    normal_started = threading.Event()

    at_gate = {"urgent": 0}  # urgent writers that asked for the gate and have not got it yet

    def urgent() -> None:
        while True:
            with lock:
                at_gate["urgent"] += 1
            with gate.hold(urgent=True):
                with lock:
                    at_gate["urgent"] -= 1
                    if grants["urgent"] >= stream_len:
                        return
                    grants["urgent"] += 1
                    n = grants["urgent"]
                if n == 200:
                    normal_started.set()  # the stream is in full flow: now the normal writer arrives
                # Continuous: hold the gate until another urgent writer is waiting for it.
                while at_gate["urgent"] == 0:
                    time.sleep(0.0002)
                time.sleep(0.0002)

    def normal() -> None:
        normal_started.wait()
        with lock:
            normal_seen["arrived"] = grants["urgent"]
        with gate.hold(urgent=False), lock:
            normal_seen["granted"] = grants["urgent"]

    threads = [threading.Thread(target=urgent) for _ in range(urgent_threads)]
    threads.append(threading.Thread(target=normal))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert "granted" in normal_seen
    # At most: the urgent writers already queued or holding when it arrived, plus max_overtaken.
    waited = normal_seen["granted"] - normal_seen["arrived"]
    assert waited <= urgent_threads + gate.max_overtaken + 1, normal_seen
    assert grants["urgent"] == stream_len


def test_a_writer_that_fails_passes_the_gate_on() -> None:
    gate = WriteGate()
    with pytest.raises(RuntimeError), gate.hold(urgent=True):
        raise RuntimeError("boom")
    done = threading.Event()

    def writer() -> None:
        with gate.hold(urgent=False):
            done.set()

    t = threading.Thread(target=writer)
    t.start()
    t.join()
    assert done.is_set() and not gate._busy


def test_a_nested_write_in_the_same_thread_does_not_wait_on_itself() -> None:
    gate = WriteGate()
    with gate.hold(urgent=False), gate.hold(urgent=True):
        assert gate._busy
    assert not gate._busy

"""Read-ahead: order, errors where they happened, and a producer that stops with its consumer."""

from __future__ import annotations

import threading
import time

import pytest

from trmseq.ahead import read_ahead


def test_items_come_in_order_and_all_of_them() -> None:
    assert list(read_ahead(iter(range(1000)), depth=3)) == list(range(1000))
    assert list(read_ahead([])) == []


def test_the_producer_runs_ahead_while_the_consumer_works() -> None:
    produced: list[int] = []

    def items():
        for i in range(4):
            produced.append(i)
            yield i

    stream = read_ahead(items(), depth=2)
    assert next(stream) == 0
    deadline = time.monotonic() + 5.0
    while len(produced) < 3 and time.monotonic() < deadline:  # one taken, two waiting
        time.sleep(0.01)
    assert produced == [0, 1, 2]
    assert list(stream) == [1, 2, 3]


def test_an_error_is_raised_after_the_items_before_it() -> None:
    def items():
        yield 1
        yield 2
        raise ValueError("spectrum 3 is broken")

    got = []
    with pytest.raises(ValueError, match="spectrum 3 is broken"):
        for item in read_ahead(items()):
            got.append(item)
    assert got == [1, 2]


def test_the_producer_stops_when_the_consumer_does() -> None:
    def endless():
        i = 0
        while True:
            yield i
            i += 1

    before = threading.active_count()
    stream = read_ahead(endless(), depth=2)
    assert [next(stream) for _ in range(5)] == [0, 1, 2, 3, 4]
    stream.close()
    deadline = time.monotonic() + 5.0
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threading.active_count() == before


def test_depth_must_be_positive() -> None:
    with pytest.raises(ValueError):
        list(read_ahead([1], depth=0))

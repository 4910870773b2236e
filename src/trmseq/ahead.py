"""Read ahead: run a producer in a thread so that it overlaps with what consumes it.

``predict`` reads and preprocesses the next batches of spectra while the network and the search
work on the current one. numpy's parsing and sorting and torch's kernels release the GIL for
most of their time, so a thread is enough and nothing has to be pickled between processes.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


def read_ahead(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """Yield ``items`` in order while a thread produces up to ``depth`` of them ahead.

    An exception raised by the producer is raised here, at the place in the sequence where it
    happened. When the consumer stops early (``close()``, an exception, garbage collection) the
    producer stops at its next item.
    """
    if depth < 1:
        raise ValueError("depth must be >= 1")
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple) -> bool:
        while not stop.is_set():
            try:
                slots.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
        except BaseException as error:  # noqa: BLE001 -- handed to the consumer, raised there
            put((_DONE, error))
            return
        put((_DONE, None))

    thread = threading.Thread(target=produce, name="trmseq-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, error = slots.get()
            if item is _DONE:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        thread.join(timeout=5.0)

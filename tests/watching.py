"""A background look-out whose failure fails the test (a plain Thread's exception only prints)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Watch:
    rounds: int = 0
    error: BaseException | None = None
    stop: threading.Event = field(default_factory=threading.Event)


@contextmanager
def watching(look: Callable[[], None], pause: float = 0.0) -> Iterator[Watch]:
    """Call `look` over and over in a thread while the block runs. When the block ends, the
    thread is stopped and joined; an exception it raised is raised here, and a watcher that
    never completed a round fails too, so a test cannot pass on a look-out that was not looking."""
    watch = Watch()

    def loop() -> None:
        try:
            while not watch.stop.is_set():
                look()
                watch.rounds += 1
                if pause:
                    time.sleep(pause)
        except BaseException as e:  # noqa: B036 — handed to the test, which raises it
            watch.error = e

    thread = threading.Thread(target=loop, name="watcher", daemon=True)
    thread.start()
    try:
        yield watch
    finally:
        watch.stop.set()
        thread.join(timeout=60)
    assert not thread.is_alive(), "the watcher did not stop within 60 s"
    if watch.error is not None:
        raise AssertionError(f"the watcher died: {watch.error!r}") from watch.error
    assert watch.rounds > 0, "the watcher never completed a look"

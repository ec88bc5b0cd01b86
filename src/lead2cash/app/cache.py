"""A small thread-safe result cache: each key computed once, concurrent askers wait for it.

The dashboard caches view results per workspace version and scope (the filter signature),
so a view asked again, or by fifty clients at once, is computed once. Least recently used
entries go first once `size` is reached.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any, TypeVar

__all__ = ["ResultCache"]

T = TypeVar("T")


class ResultCache:
    """Results by key; one computation per key even when many threads ask at the same time."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, Future[Any]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached result for `key`, computing it (once) when absent; errors are not kept."""
        with self._lock:
            future = self._entries.get(key)
            if future is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                owner = False
            else:
                future = self._entries[key] = Future()
                self.misses += 1
                owner = True
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        if owner:
            try:
                future.set_result(compute())
            except BaseException as exc:  # noqa: BLE001 - handed to every waiter, re-raised
                with self._lock:
                    self._entries.pop(key, None)
                future.set_exception(exc)
        return future.result()

    def clear(self) -> None:
        """Forget every result."""
        with self._lock:
            self._entries.clear()

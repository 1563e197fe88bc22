"""Bounded caches of computed results, valid while the catalog is the same object (the
repository loads a new one when the data version moves: any import, by any process)."""

from __future__ import annotations

import gc
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

V = TypeVar("V")


class CatalogLRU(Generic[V]):
    """The last `size` results by key; an entry computed under another catalog is stale.
    One per app (built by create_app), never module-level; safe across a worker's threads."""

    def __init__(
        self, size: int = 256, budget: int | None = None, weight: Callable[[V], int] = lambda _: 1
    ):
        """size: at most that many entries; budget: at most that total weight (a frame's rows,
        say), the oldest entries dropped first."""
        self.size, self.budget, self.weight = size, budget, weight
        self._entries: OrderedDict[tuple, tuple[Any, V, int]] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()

    def get(self, key: tuple, cat: Any) -> V | None:
        with self._lock:
            hit = self._entries.get(key)
            if hit is None or hit[0] is not cat:
                return None
            self._entries.move_to_end(key)
            return hit[1]

    def put(self, key: tuple, cat: Any, value: V) -> None:
        w = self.weight(value)
        if self.budget is not None and w > self.budget:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            self._total += w - (old[2] if old else 0)
            self._entries[key] = (cat, value, w)
            while len(self._entries) > self.size or (
                self.budget is not None and self._total > self.budget
            ):
                self._total -= self._entries.popitem(last=False)[1][2]


def settle_heap() -> None:
    """Collect once, then move every object alive now (the catalogue just loaded, the app, the
    libraries) out of the cyclic collector's reach (gc.freeze). A serving process holds tens of
    thousands of long-lived objects (13,000 facilities at 10×); without this every full
    collection walks them all again, a pause of ~80-100 ms landing on whichever request
    happens to allocate at that moment. Unfreezing first lets a catalogue an import replaced
    be collected now rather than stay frozen."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()

"""Idempotency keys: the first answer to a key is the answer to every retry with that key.

A key is remembered together with a fingerprint of its request (method, path and the exact
body bytes). The same key with the same request replays the stored answer without touching
the platform; the same key with a different request is refused with 422. Memory is bounded:
the oldest keys are forgotten first once ``max_keys`` keys or ``max_bytes`` of stored bodies
are held.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

__all__ = ["IdempotencyStore", "StoredResponse"]


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The answer first given to a key."""

    fingerprint: int
    status: int
    body: bytes


class IdempotencyStore:
    """Insertion-ordered key → answer map with FIFO eviction."""

    def __init__(self, *, max_keys: int = 1_000_000, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.max_keys = max_keys
        self.max_bytes = max_bytes
        self._items: dict[bytes, StoredResponse] = {}
        # FIFO of keys: ``next(iter(dict))`` after many deletions from the front is O(n)
        self._order: deque[bytes] = deque()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: bytes) -> StoredResponse | None:
        """The stored answer for ``key``, if it is still remembered."""
        return self._items.get(key)

    def put(self, key: bytes, fingerprint: int, status: int, body: bytes) -> None:
        """Remember the answer for ``key`` (evicting the oldest keys if over a limit)."""
        previous = self._items.get(key)
        if previous is not None:
            self._bytes -= len(previous.body) + len(key)
        else:
            self._order.append(key)
        self._items[key] = StoredResponse(fingerprint, status, body)
        self._bytes += len(body) + len(key)
        while len(self._items) > self.max_keys or self._bytes > self.max_bytes:
            oldest = self._order.popleft()
            evicted = self._items.pop(oldest)
            self._bytes -= len(evicted.body) + len(oldest)

    def clear(self) -> None:
        """Forget every key."""
        self._items.clear()
        self._order.clear()
        self._bytes = 0

"""The idempotency store forgets the oldest keys first, within its limits."""

from __future__ import annotations

from ircli.sandbox.idempotency import IdempotencyStore


def test_oldest_keys_are_evicted_by_count_and_by_bytes() -> None:
    store = IdempotencyStore(max_keys=3, max_bytes=10_000)
    for number in range(5):
        store.put(b"k%d" % number, number, 200, b"x")
    assert len(store) == 3
    assert store.get(b"k1") is None
    assert store.get(b"k4") is not None
    big = IdempotencyStore(max_keys=100, max_bytes=250)
    for number in range(10):
        big.put(b"k%d" % number, number, 200, b"y" * 98)
    assert len(big) == 2
    assert [big.get(b"k%d" % n) is not None for n in (7, 8, 9)] == [False, True, True]


def test_storing_the_same_key_again_keeps_one_entry() -> None:
    store = IdempotencyStore(max_keys=2)
    store.put(b"a", 1, 200, b"first")
    store.put(b"a", 1, 200, b"second")
    store.put(b"b", 2, 200, b"x")
    assert len(store) == 2
    stored = store.get(b"a")
    assert stored is not None
    assert stored.body == b"second"

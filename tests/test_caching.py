"""The one in-memory cache helper: bounded, least recently used out, one build stored, keys by
content (equal arrays give equal keys, different ones different keys)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from surveyapp.caching import BoundedCache, array_key


def test_the_least_recently_used_value_goes_first() -> None:
    cache: BoundedCache[int] = BoundedCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3)
    assert "b" not in cache and cache.get("a") == 1 and cache.get("c") == 3
    assert len(cache) == 2
    cache.clear()
    assert len(cache) == 0
    with pytest.raises(ValueError):
        BoundedCache(0)


def test_threads_share_one_stored_value() -> None:
    cache: BoundedCache[object] = BoundedCache(4)
    seen: list[object] = []
    start = threading.Barrier(8)

    def work() -> None:
        start.wait()
        seen.append(cache.get_or_make("k", object))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = cache.get("k")
    # A value built by a thread that lost the race is dropped: later readers get the first.
    assert stored is not None and cache.get_or_make("k", object) is stored
    assert len(seen) == 8


def test_keys_follow_the_content_not_the_object() -> None:
    a = np.arange(10)
    assert array_key(a, "x") == array_key(np.arange(10), "x")
    assert array_key(a) != array_key(a.astype(np.int32))  # same numbers, other bytes
    assert array_key(a) != array_key(a.reshape(2, 5))
    b = a.copy()
    b[3] = 99
    assert array_key(a) != array_key(b)
    assert array_key(a[::2]) == array_key(np.ascontiguousarray(a[::2]))
    assert array_key(np.array(["x", None], dtype=object)) == array_key(
        np.array(["x", None], dtype=object)
    )

"""One small in-memory cache: bounded, least recently used out first, safe across threads.

Every in-memory cache of the application is a :class:`BoundedCache` (the wave data and its
weighted design, the XForms served to ODK Collect, the cells and quadratic forms of the
estimation core): background jobs run in threads of the web process and share them.

Keys are the *content* a value was made from -- a questionnaire hash, a wave's fingerprint, a
design's :func:`array_key` -- never ``id()`` of an object: an id is reused as soon as the
object is freed, and then names another object. Values are built outside the lock (two
threads may build the same value once each; the first stored wins), so a slow build never
blocks readers of other keys.

This module imports nothing of the application (the pure cores use it).
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

__all__ = ["BoundedCache", "array_key", "content_key"]

V = TypeVar("V")


class BoundedCache(Generic[V]):
    """At most ``maxsize`` values by key; the least recently used goes first."""

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("a cache holds at least one value")
        self.maxsize = maxsize
        self._data: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        """The value stored under ``key`` (now the most recently used), or None."""
        with self._lock:
            if key not in self._data:
                return None
            self._data.move_to_end(key)
            return self._data[key]

    def put(self, key: Hashable, value: V) -> V:
        """Store ``value`` under ``key`` (dropping the least recently used beyond the bound);
        a value stored meanwhile by another thread wins and is returned."""
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
            self._data[key] = value
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)
            return value

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        """The value under ``key``, made by ``make()`` (outside the lock) when missing."""
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        return self.put(key, make())

    def clear(self) -> None:
        """Forget every value."""
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._data


def array_key(*parts: Any) -> str:
    """A content key for numpy arrays (their dtype, shape and bytes) and plain values.

    BLAKE2b over the data: about 1 ms per 8 MB, so compute it once per object where the same
    object is looked up many times.
    """
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        if hasattr(part, "tobytes") and hasattr(part, "dtype") and part.dtype.kind != "O":
            digest.update(f"{part.dtype.str}{part.shape}".encode())
            digest.update(part.tobytes() if not part.flags.c_contiguous else memoryview(part))
        elif hasattr(part, "tolist"):  # labels: an object array
            digest.update(repr(part.tolist()).encode())
        else:
            digest.update(repr(part).encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def content_key(obj: Any) -> str:
    """:func:`array_key` of an immutable object's content: a dataclass by its fields (arrays,
    nested dataclasses, tuples), recursively. Kept on the object when it has a
    ``_content_key`` list (a field made empty for each new object, ``init=False``), so the data
    is read once per object (the estimation core's designs and categorical variables)."""
    memo = getattr(obj, "_content_key", None)
    if memo:
        return str(memo[0])
    key = array_key(*_flatten(obj))
    if isinstance(memo, list):
        memo.append(key)
    return key


def _flatten(obj: Any) -> list[Any]:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out: list[Any] = [type(obj).__qualname__]
        for f in dataclasses.fields(obj):
            if f.name != "_content_key":
                out += [f.name, *_flatten(getattr(obj, f.name, None))]
        return out
    if isinstance(obj, tuple | list):
        out = [f"{type(obj).__name__}{len(obj)}"]
        for item in obj:
            out += _flatten(item)
        return out
    return [obj]

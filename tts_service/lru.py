"""A least-recently-used cache bounded by the bytes its entries hold, not by how many there are.

An entry count bounds nothing when entries differ in size by a factor of a thousand: the plan of a
100,000-character article holds about 2 MB, the plan of a headline a few hundred bytes. Every in-process cache
of the service is one of these, each with its own size function.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from enum import Enum
from typing import Generic, Literal, ParamSpec, Protocol, TypeVar, cast, overload

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
P = ParamSpec("P")
R = TypeVar("R")
D = TypeVar("D")
Args = tuple[object, ...]  # a cached function's positional arguments, its cache key


class _Missing(Enum):
    """The "not cached" sentinel: an enum member, so that ``is`` narrows it (None is a cacheable value)."""

    MISSING = "missing"


_MISSING: Literal[_Missing.MISSING] = _Missing.MISSING

_POINTER = 8
ENTRY_OVERHEAD = 200  # bytes of the map's own bookkeeping per entry: dict slot, order links, size
_LEAVES = (str, bytes, bytearray, int, float, complex, bool, type(None))


def deep_size(*objects: object) -> int:
    """Bytes of ``objects`` and of everything they hold: containers and dataclass fields, each object once.

    An estimate (``sys.getsizeof`` per object), close to what the allocator really holds. It walks only
    containers and dataclasses, so shared machinery (modules, classes, functions) is never counted.
    """
    seen: set[int] = set()
    stack = list(objects)
    total = 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        if isinstance(obj, _LEAVES):
            continue
        if isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, tuple | list | set | frozenset):
            stack.extend(obj)
        elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            fields = dataclasses.fields(obj)
            if type(obj).__dictoffset__:  # attribute values in an array of their own, which getsizeof omits
                total += _POINTER * (len(fields) + 1)
            # getattr, not vars(): reading __dict__ would make Python build a dict the object did not have.
            stack.extend(getattr(obj, f.name) for f in fields)
    return total


class ByteLRU(Generic[K, V]):
    """A map whose least recently used entries go first once their sizes add up to more than ``max_bytes``.

    An entry counts ``size(key, value)``, measured once when it is put (entries must not grow afterwards),
    plus ``ENTRY_OVERHEAD``. An entry larger than the whole bound is not kept at all: the bound holds whatever
    the input. Thread-safe, since the pinyin front end runs in the engine's worker threads.
    """

    def __init__(self, max_bytes: int, size: Callable[[K, V], int]) -> None:
        self.max_bytes, self._size = max_bytes, size
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        """The bytes the entries hold now (by their size function), never over ``max_bytes``."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    @overload
    def get(self, key: K) -> V | None: ...

    @overload
    def get(self, key: K, default: D) -> V | D: ...

    def get(self, key: K, default: D | None = None) -> V | D | None:
        """The value under ``key``, now the most recently used; ``default`` if it is not here."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return default
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: K, value: V) -> V:
        """Keep ``value`` under ``key`` (unless it alone is over the bound); evict the oldest."""
        size = self._size(key, value) + ENTRY_OVERHEAD
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            if size > self.max_bytes:
                return value
            self._entries[key] = value, size
            self._bytes += size
            while self._bytes > self.max_bytes:
                self._bytes -= self._entries.popitem(last=False)[1][1]
        return value  # returned, so that a caller can compute, keep and use in one expression

    def discard(self, key: K) -> None:
        """Forget ``key`` (if it is here), before its turn to be evicted."""
        with self._lock:
            entry = self._entries.pop(key, None)
            if entry is not None:
                self._bytes -= entry[1]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


class Cached(Protocol[P, R]):
    """What ``cached`` makes of a function: the function, with its ``cache`` to measure or clear."""

    @property
    def cache(self) -> ByteLRU[Args, R]: ...

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R: ...


def cached(max_bytes: int, size: Callable[[Args, R], int]) -> Callable[[Callable[P, R]], Cached[P, R]]:
    """Decorator: ``functools.lru_cache`` for a pure function of hashable positional arguments, bounded in
    bytes. ``size(args, result)`` measures an entry; the cache is the wrapper's ``cache`` attribute."""

    def decorate(fn: Callable[P, R]) -> Cached[P, R]:
        store: ByteLRU[Args, R] = ByteLRU(max_bytes, size)

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            assert not kwargs, "cached functions take positional arguments only"
            result = store.get(args, _MISSING)
            if result is _MISSING:
                return store.put(args, fn(*args, **kwargs))
            return result

        wrapper.cache = store  # type: ignore[attr-defined]  # a function's attribute, typed by Cached below
        return cast(Cached[P, R], wrapper)

    return decorate

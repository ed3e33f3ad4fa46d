"""Prefixed, time-sortable, URL-safe ids (``msg_2Nf...``), in the spirit of KSUID.

An id is a prefix, an underscore and 22 base62 characters encoding 128 bits: 48 bits of
milliseconds since the Unix epoch, then 80 random bits. The alphabet is in ASCII order and
the width fixed, so ids sort as strings in creation order; lists page by id.

Within one process, ids made in the same millisecond are made strictly increasing (the
random part is incremented) so that a page boundary never splits a burst out of order.
"""

from __future__ import annotations

import os
import secrets
import threading
import time

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_WIDTH = 22
_RANDOM_BITS = 80

APPLICATION = "app"
ENDPOINT = "ep"
MESSAGE = "msg"
DELIVERY = "dlv"
ATTEMPT = "atmpt"
API_KEY = "key"

_lock = threading.Lock()
_last = 0
# Random bits come from the OS in blocks: one getrandom() call per id costs more than the rest
# of making the id.
_POOL_SIZE = 4096
_RANDOM_BYTES = _RANDOM_BITS // 8
_pool = b""
_offset = _POOL_SIZE


def _forget_pool() -> None:
    # A forked child refills the pool, or it would repeat its parent's ids. (Checking the pid
    # at every id instead costs a system call per id.)
    global _offset
    _offset = _POOL_SIZE


if hasattr(os, "register_at_fork"):  # no fork, and no such hook, on Windows
    os.register_at_fork(after_in_child=_forget_pool)


# Two digits per division: ids are made for every message, delivery and attempt.
_PAIRS = [high + low for high in ALPHABET for low in ALPHABET]
_PAIR_BASE = len(_PAIRS)


def _encode(number: int) -> str:
    pairs = []
    for _ in range(_WIDTH // 2):
        number, pair = divmod(number, _PAIR_BASE)
        pairs.append(_PAIRS[pair])
    pairs.reverse()
    return "".join(pairs)


def _next_value(now_ms: int) -> int:
    global _last, _pool, _offset
    with _lock:
        if _offset + _RANDOM_BYTES > _POOL_SIZE:
            _pool, _offset = secrets.token_bytes(_POOL_SIZE), 0
        random_part = int.from_bytes(_pool[_offset : _offset + _RANDOM_BYTES])
        _offset += _RANDOM_BYTES
        candidate = (now_ms << _RANDOM_BITS) | random_part
        if candidate <= _last:
            candidate = _last + 1
        _last = candidate
    return candidate


def new_id(prefix: str) -> str:
    """A fresh id such as ``msg_1x4Qbq2kU0wRAtB5oZ0n9e``."""
    return f"{prefix}_{_encode(_next_value(time.time_ns() // 1_000_000))}"


def lower_bound(prefix: str, unix_ms: int) -> str:
    """The smallest id that could have been made at ``unix_ms``: for "since" queries by id."""
    return f"{prefix}_{_encode(unix_ms << _RANDOM_BITS)}"


def has_prefix(value: str, prefix: str) -> bool:
    """Whether ``value`` looks like an id of the given kind."""
    head, sep, tail = value.partition("_")
    return bool(sep) and head == prefix and len(tail) == _WIDTH and all(c in ALPHABET for c in tail)


def created_ms(value: str) -> int:
    """When an id was made, in Unix milliseconds (ids begin with their creation time)."""
    number = 0
    for char in value.partition("_")[2]:
        number = number * 62 + ALPHABET.index(char)
    return number >> _RANDOM_BITS

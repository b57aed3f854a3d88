"""Snowflake-style 64-bit ids: 41 bits of milliseconds, 10 bits of node, 12 of sequence.

Time-ordered and unique across processes as long as each process has its own node id.
Without a configured node id a random one is drawn per process; the primary key still
guards the (rare) collision, and callers retry with a fresh id.
"""

from __future__ import annotations

import secrets
import threading
import time

__all__ = ["IdGenerator"]

TWITTER_EPOCH_MS = 1288834974657
_NODE_BITS = 10
_SEQ_BITS = 12
_MAX_SEQ = (1 << _SEQ_BITS) - 1


class IdGenerator:
    def __init__(self, node_id: int | None = None) -> None:
        self.node_id = secrets.randbelow(1 << _NODE_BITS) if node_id is None else node_id
        if not 0 <= self.node_id < (1 << _NODE_BITS):
            raise ValueError("node_id must be 0..1023")
        self._lock = threading.Lock()
        self._last_ms = -1
        self._seq = 0

    def next_id(self) -> int:
        with self._lock:
            now = int(time.time() * 1000) - TWITTER_EPOCH_MS
            if now < self._last_ms:  # the clock stepped back: keep ids increasing
                now = self._last_ms
            if now == self._last_ms:
                self._seq = (self._seq + 1) & _MAX_SEQ
                if self._seq == 0:
                    while now <= self._last_ms:
                        now = int(time.time() * 1000) - TWITTER_EPOCH_MS
            else:
                self._seq = 0
            self._last_ms = now
            return (now << (_NODE_BITS + _SEQ_BITS)) | (self.node_id << _SEQ_BITS) | self._seq

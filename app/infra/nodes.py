"""Node ids of sibling processes: each server or worker process of one invocation gets its
own snowflake node (app/core/ids.py), so their ids never collide.

``mediastudio serve --workers N`` and ``mediastudio worker --processes N`` give their N
processes a base node B (``MEDIASTUDIO_NODE_ID``, or one drawn at random for the
invocation) and ``MEDIASTUDIO_NODE_SLOTS=N``; each process takes node B + k for the lowest
k in 0..N-1 that no live sibling holds, by an exclusive ``flock`` on
``DATA_DIR/run/node-<B+k>.lock`` kept for the process's life. A process that dies releases
its lock with it, so the one started in its place takes the freed node. With one slot the
node is ``MEDIASTUDIO_NODE_ID`` itself, or random per process when unset.
"""

from __future__ import annotations

import fcntl
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import IO

__all__ = ["MAX_NODE", "NoFreeNode", "NodeClaim", "claim_node", "draw_base"]

MAX_NODE = 1023


class NoFreeNode(RuntimeError):
    """Every node of the slots is held by a live process."""


@dataclass
class NodeClaim:
    node_id: int | None  # None: draw one at random (one slot, no node id set)
    _lock: IO[bytes] | None = None

    def release(self) -> None:
        if self._lock is not None:
            self._lock.close()  # closing drops the flock
            self._lock = None


def draw_base(slots: int) -> int:
    """A random base node with room for ``slots`` consecutive nodes."""
    return secrets.randbelow(MAX_NODE + 2 - slots)


def check_range(base: int, slots: int) -> None:
    if base + slots - 1 > MAX_NODE:
        raise ValueError(
            f"node ids {base}..{base + slots - 1} pass {MAX_NODE}: "
            f"set MEDIASTUDIO_NODE_ID to at most {MAX_NODE + 1 - slots}"
        )


def claim_node(base: int | None, slots: int, run_dir: Path) -> NodeClaim:
    """The node this process uses (see the module docstring)."""
    if slots <= 1 or base is None:
        return NodeClaim(base)
    check_range(base, slots)
    run_dir.mkdir(parents=True, exist_ok=True)
    for node in range(base, base + slots):
        handle = (run_dir / f"node-{node}.lock").open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        os.set_inheritable(handle.fileno(), False)
        return NodeClaim(node, handle)
    raise NoFreeNode(f"nodes {base}..{base + slots - 1} are all held by live processes")

"""The storage contract every backend implements.

Two Protocols, one store: ``ObjectStore`` holds objects (bytes at a key: the assembled
blob of a media, its variants, HLS, profile images, subtitle tracks) and hands tools a
local ``Scratch`` folder; ``SegmentStore`` extends it with the two-phase segment writes
and the assembly that uploads need. Every backend implements both (``SegmentStore``),
so the upload code and everything above it take one object. Optional capabilities are
separate Protocols (``SupportsSignedUrls``), checked with ``isinstance``.

Keys come from ``app.storage.keys`` and nowhere else. A key is ``/``-separated
components of ``[A-Za-z0-9_][A-Za-z0-9._-]*``; its first component groups everything
of one media or account, so ``SegmentStore.discard`` of that component drops it all.
A *prefix* is a key ending in ``/`` that names a folder below a group
(``"123/variants/"``). A malformed key raises ``StorageKeyInvalid``.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Collection, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol, runtime_checkable

__all__ = [
    "BlobRef",
    "ObjectInfo",
    "ObjectStore",
    "Scratch",
    "SegmentStore",
    "Space",
    "StagedSegment",
    "StorageError",
    "StorageFull",
    "StorageKeyInvalid",
    "StorageNotFound",
    "StoredSegment",
    "SupportsSignedUrls",
    "SupportsSpace",
    "SupportsTempSweep",
    "TempSweep",
]


class StorageError(Exception):
    """Base of the errors a backend raises on purpose (I/O failures propagate as the
    backend's own exceptions, e.g. ``OSError``)."""


class StorageNotFound(StorageError):
    """The key, segment or blob does not exist in the store."""


class StorageFull(StorageError):
    """The backend has no room for the bytes (``ENOSPC``, or ``EDQUOT``: a quota). Raised
    by every writing call; what was being written is gone when it propagates (no part of
    a segment, blob or object stays), so the same call succeeds once space is freed."""


class StorageKeyInvalid(StorageError, ValueError):
    """A key or prefix that ``app.storage.keys`` would never build: an empty, hidden or
    ``..`` component, a character outside the key alphabet, a reserved name, or a
    prefix that does not end in ``/`` or names a whole group."""


@dataclass(frozen=True, slots=True)
class StoredSegment:
    index: int
    size: int
    sha256: str | None


@dataclass(frozen=True, slots=True)
class StagedSegment:
    """Bytes written and hashed but not yet visible as segment ``index``."""

    key: str
    index: int
    size: int
    sha256: str | None  # None unless the caller asked for a checksum
    token: str


@dataclass(frozen=True, slots=True)
class BlobRef:
    key: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What ``stat`` and ``list`` know of an object without reading it."""

    key: str
    size: int
    modified: datetime  # aware, UTC, whole seconds (HTTP dates carry no more)
    etag: str  # a strong validator, quoted: changes whenever the bytes may have
    content_type: str | None  # None when the backend does not store one


class Scratch(Protocol):
    """A private local folder for tools that need files (ffmpeg, Pillow).

    ``dir`` starts empty; tools write their outputs there (in subfolders made with
    ``subdir``). ``publish`` puts the outputs back into the store. On leaving the
    ``async with`` block the whole folder is removed, whatever happened; a crashed
    process's folders are removed by a later ``scratch()`` of the same store.
    """

    @property
    def dir(self) -> Path:
        """The output folder (exists, empty at first)."""
        ...

    async def local_copy(self, key: str) -> Path:
        """A local file with the bytes of object ``key``, valid until the scratch
        ends. It may share storage with the object itself (a hard link, or the object's
        own file): read it, never write it. Raises ``StorageNotFound``."""
        ...

    def subdir(self, relative: str) -> Path:
        """Make (if needed) and return the folder ``relative`` inside ``dir``."""
        ...

    async def publish(self, prefix: str) -> list[ObjectInfo]:
        """Make every file below ``dir`` the object ``prefix + <its relative path>``
        and remove every other object below ``prefix``: the folder replaces the
        prefix's contents. Durable when it returns. Readers see the previous contents
        or the new ones, never a mix of the two (a reader may find nothing for an
        instant between them); if it raises, the previous contents are in place.
        Call it at most once; raises ``StorageKeyInvalid`` (before anything changes)
        when a relative path is not a valid key."""
        ...


class ObjectStore(Protocol):
    """Bytes at keys: write whole objects, read byte ranges, stat, delete, list."""

    async def put(
        self,
        key: str,
        data: bytes | AsyncIterable[bytes],
        *,
        content_type: str | None = None,
    ) -> ObjectInfo:
        """Store ``data`` as object ``key``, replacing any previous object, atomically:
        a reader sees the old bytes or the new ones in full, never a part. A stream is
        written in constant memory. Durable when it returns; if it raises (the stream
        included) or is cancelled, the previous object is unchanged and nothing of the
        new one remains. ``content_type`` is kept only by backends that store one."""
        ...

    async def put_file(
        self, key: str, path: Path, *, content_type: str | None = None
    ) -> ObjectInfo:
        """``put`` with the bytes of the local file ``path`` (which is left in place)."""
        ...

    def read(self, key: str, *, start: int = 0, stop: int | None = None) -> AsyncIterator[bytes]:
        """Stream bytes ``[start, stop)`` of object ``key`` in bounded blocks (``stop``
        None or past the end: to the end). Raises ``StorageNotFound`` when iteration
        starts and there is no such object."""
        ...

    async def stat(self, key: str) -> ObjectInfo:
        """Size, modification time and validator of object ``key``; raises
        ``StorageNotFound``."""
        ...

    async def delete(self, key: str) -> None:
        """Remove object ``key``; a no-op when there is none."""
        ...

    async def delete_prefix(self, prefix: str) -> None:
        """Remove every object whose key starts with ``prefix``; a no-op when there is
        none."""
        ...

    async def list(self, prefix: str) -> list[ObjectInfo]:
        """Every object whose key starts with ``prefix``, by key; empty when none."""
        ...

    def scratch(self) -> AbstractAsyncContextManager[Scratch]:
        """A new ``Scratch`` folder, removed when the block ends."""
        ...


class SegmentStore(ObjectStore, Protocol):
    """Where upload bytes live, on top of the object store.

    Writing a segment is two-phase: ``stage_segment`` streams the bytes to a private
    place (memory stays flat whatever the size; a failure or cancellation leaves nothing
    behind), then ``commit_segment`` makes it segment ``index`` atomically, replacing a
    previous one, or ``abort_segment`` drops it. The caller checks its rules between the
    two, under its own lock, and records the segment in its database in the same locked
    transaction as the commit. After that transaction committed it calls
    ``finalize_commit``; if the transaction failed, ``abort_segment`` puts the previous
    segment back, so the bytes match what the database still describes.

    ``assemble`` joins committed segments into the media blob, durably (fsync) before
    it returns, and removes the segments. The blob of ``key`` is the object ``key``
    (``read``, ``stat`` and ``scratch().local_copy`` take it like any other object).

    Durability: a committed segment is not fsynced before the caller answers (see the
    filesystem backend's docstring for the measured cost and the reasoning); a segment
    lost in a crash shows as missing or short in ``segment_sizes``, which FINALIZE
    compares with the database before it assembles.
    """

    async def stage_segment(
        self, key: str, index: int, chunks: AsyncIterable[bytes], *, checksum: bool = True
    ) -> StagedSegment:
        """Stream ``chunks`` to a staging place and count them; SHA-256 them when
        ``checksum`` (otherwise ``segment_sha256`` computes it later, if ever asked)."""
        ...

    async def segment_sha256(self, key: str, index: int) -> str | None:
        """SHA-256 of committed segment ``index``, or None if it is not there."""
        ...

    async def commit_segment(self, staged: StagedSegment) -> StoredSegment:
        """Publish a staged segment as ``staged.index``, replacing any previous one,
        which is kept aside until ``finalize_commit`` or ``abort_segment``. Raises
        ``StorageNotFound`` when the staged bytes are gone."""
        ...

    async def finalize_commit(self, staged: StagedSegment) -> None:
        """The caller recorded the commit of ``staged``: drop the previous segment kept
        aside for ``abort_segment``. A no-op when there is nothing to drop."""
        ...

    async def abort_segment(self, staged: StagedSegment) -> None:
        """Forget ``staged``. Before ``commit_segment`` this drops the staged bytes;
        after it (the caller's transaction failed) it also restores the segment it
        replaced, or removes the index when there was none, unless a later commit of the
        same index replaced it meanwhile (that one stays). A no-op when already done."""
        ...

    async def segment_sizes(self, key: str) -> dict[int, int]:
        """Committed segments as index -> size, as the storage itself sees them."""
        ...

    async def assemble(self, key: str, order: Sequence[int]) -> BlobRef:
        """Join segments in ``order`` into the blob of ``key``; raises StorageNotFound.
        When the segments are gone but the blob exists (an earlier assembly whose
        caller did not commit), returns that blob's reference again."""
        ...

    async def blob_size(self, key: str) -> int | None:
        """Size of the assembled blob of ``key``, or None when there is none."""
        ...

    async def discard(self, key: str) -> None:
        """Delete everything stored under ``key``: segments, staging files, blob and
        every object of the group ``key`` (variants, HLS, profile images)."""
        ...

    async def healthy(self) -> bool:
        """True when the store can be written."""
        ...


@runtime_checkable
class SupportsSignedUrls(Protocol):
    """Optional: a backend whose objects clients can fetch directly (an object store
    behind a CDN). The filesystem backend does not implement it; delivery then streams
    through ``read``. A caller checks ``isinstance(store, SupportsSignedUrls)``."""

    async def signed_url(self, key: str, *, expires_in: timedelta) -> str:
        """A URL that serves object ``key`` (GET, HEAD and byte ranges) to anyone who
        holds it, until ``expires_in`` from now. Raises ``StorageNotFound`` when there
        is no such object."""
        ...


# --- Full disks and crash leftovers: optional capabilities of a local backend ----------


@dataclass(frozen=True, slots=True)
class Space:
    """Room on the volume that holds a store."""

    total: int
    free: int  # available to the service (not counting blocks reserved for root)

    @property
    def free_percent(self) -> float:
        return 100.0 * self.free / self.total if self.total else 0.0


@dataclass(frozen=True, slots=True)
class TempSweep:
    """What one ``sweep_temp`` removed."""

    files: int = 0
    bytes: int = 0


@runtime_checkable
class SupportsSpace(Protocol):
    """Optional: a backend on a volume that can fill up (the filesystem)."""

    async def space(self) -> Space:
        """Total and free bytes of the volume the store writes to."""
        ...


@runtime_checkable
class SupportsTempSweep(Protocol):
    """Optional: a backend whose writes leave temporary files when the process dies
    mid-write (the filesystem's ``.stage-``, ``.prev-``, ``.next-``, ``.blob-``, ``.put-``
    files and ``.old-`` folders)."""

    async def sweep_temp(self, *, older_than: timedelta, busy: Collection[str]) -> TempSweep:
        """Remove temporary files untouched for ``older_than`` (by their inode change
        time: a write, a rename or a new link renews it), except in the groups ``busy``
        (keys of media an operation holds: a FINALIZE lease, an APPEND reservation).
        Committed segments, blobs and objects are never touched."""
        ...

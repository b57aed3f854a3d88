"""The storage contract every backend implements."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

__all__ = [
    "BlobRef",
    "SegmentStore",
    "StagedSegment",
    "StorageNotFound",
    "StoredSegment",
    "SupportsLocalPath",
]


class StorageNotFound(Exception):
    """The key, segment or blob does not exist in the store."""


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


class SegmentStore(Protocol):
    """Where upload bytes live.

    Writing a segment is two-phase: ``stage_segment`` streams the bytes to a private
    place (memory stays flat whatever the size; a failure or cancellation leaves nothing
    behind), then ``commit_segment`` makes it segment ``index`` atomically, replacing a
    previous one, or ``abort_segment`` drops it. The caller checks its rules between the
    two, under its own lock. ``assemble`` joins committed segments into the media blob,
    durably (fsync) before it returns, and removes the segments.
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
        """Publish a staged segment as ``staged.index``, replacing any previous one."""
        ...

    async def abort_segment(self, staged: StagedSegment) -> None:
        """Forget a staged segment; a no-op if it is already gone."""
        ...

    async def segment_sizes(self, key: str) -> dict[int, int]:
        """Committed segments as index -> size, as the storage itself sees them."""
        ...

    async def assemble(self, key: str, order: Sequence[int]) -> BlobRef:
        """Join segments in ``order`` into the blob of ``key``; raises StorageNotFound."""
        ...

    async def blob_size(self, key: str) -> int | None:
        """Size of the assembled blob of ``key``, or None when there is none."""
        ...

    def read(self, key: str, *, start: int = 0, stop: int | None = None) -> AsyncIterator[bytes]:
        """Stream bytes ``[start, stop)`` of the blob of ``key``."""
        ...

    async def discard(self, key: str) -> None:
        """Delete everything stored under ``key``: segments, staging files and blob."""
        ...

    async def healthy(self) -> bool:
        """True when the store can be written."""
        ...


@runtime_checkable
class SupportsLocalPath(Protocol):
    """A store whose blobs are files that tools such as ffmpeg can open directly."""

    def blob_path(self, key: str) -> Path: ...

    def variants_dir(self, key: str) -> Path:
        """Directory for the processed outputs of ``key`` (may not exist yet);
        ``discard(key)`` removes it with everything else."""
        ...

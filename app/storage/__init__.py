"""The one door for bytes: every byte the service stores or serves goes through here.

``base`` holds the contract (``ObjectStore``, ``SegmentStore`` on top of it, the
optional ``SupportsSignedUrls``), ``keys`` the only function that names objects, and
one module per backend (``filesystem``; object storage comes as a second one). The
backend is chosen once, in ``build_store``. Nothing outside ``app/storage`` opens a
file for writing, renames, deletes or makes directories (tests/test_architecture.py);
tools that need local files (ffmpeg, Pillow) get them from ``ObjectStore.scratch``.
This package imports nothing of the app above it (no models, no HTTP).
"""

from __future__ import annotations

from pathlib import Path

from app.storage import keys
from app.storage.base import (
    BlobRef,
    ObjectInfo,
    ObjectStore,
    Scratch,
    SegmentStore,
    Space,
    StagedSegment,
    StorageError,
    StorageFull,
    StorageKeyInvalid,
    StorageNotFound,
    StoredSegment,
    SupportsSignedUrls,
    SupportsSpace,
    SupportsTempSweep,
    TempSweep,
)

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
    "build_store",
    "keys",
]


def build_store(root: Path) -> SegmentStore:
    from app.storage.filesystem import FilesystemStore

    return FilesystemStore(root)

"""Where upload bytes live: one interface (``base``), one module per backend.

Backends are chosen once, in ``build_store``; nothing above ``storage/`` touches files.
"""

from __future__ import annotations

from pathlib import Path

from app.storage.base import BlobRef, SegmentStore, StagedSegment, StoredSegment

__all__ = ["BlobRef", "SegmentStore", "StagedSegment", "StoredSegment", "build_store"]


def build_store(root: Path) -> SegmentStore:
    from app.storage.filesystem import FilesystemStore

    return FilesystemStore(root)

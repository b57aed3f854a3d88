"""The upload commands as parsed values: what INIT, APPEND, FINALIZE, STATUS and the
simple upload ask for, whichever surface (v1.1 form, v2 JSON or form) they came from.

Pure: no HTTP, no database. ``app.http.upload_commands`` builds them; the use cases in
``app.uploads.service`` and ``app.uploads.append`` take their fields.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from app.uploads.protocol import MediaCategory

__all__ = ["Append", "Command", "Finalize", "Init", "SimpleUpload", "Status"]


@dataclass(frozen=True, slots=True)
class Init:
    total_bytes: int
    media_type: str
    category: MediaCategory | None
    additional_owners: tuple[int, ...] = ()
    shared: bool = False


@dataclass(frozen=True, slots=True)
class Append:
    """``index`` None: the client sent none (v2 only); the segment after the highest
    stored one. ``chunks`` is the segment's decoded bytes, streamed once."""

    media_id: int
    index: int | None
    chunks: AsyncIterator[bytes]
    expected_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class Finalize:
    media_id: int


@dataclass(frozen=True, slots=True)
class Status:
    media_id: int


@dataclass(frozen=True, slots=True)
class SimpleUpload:
    """One-request image upload; ``chunks`` is the whole (decoded) file."""

    chunks: AsyncIterator[bytes]
    category: MediaCategory | None
    additional_owners: tuple[int, ...] = ()
    shared: bool = False


Command = Init | Append | Finalize | Status | SimpleUpload

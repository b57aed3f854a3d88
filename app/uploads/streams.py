"""Byte-stream transforms for upload bodies: caps and incremental decoders."""

from __future__ import annotations

import binascii
from collections.abc import AsyncIterable, AsyncIterator, Callable
from urllib.parse import unquote_to_bytes

from app.core import errors

__all__ = ["Base64Decoder", "PercentDecoder", "b64decode_all", "b64decoded", "capped"]


async def capped(
    chunks: AsyncIterable[bytes], limit: int, on_exceed: Callable[[int], errors.ApiError]
) -> AsyncIterator[bytes]:
    """Pass chunks through; raise ``on_exceed(bytes_seen)`` as soon as ``limit`` is crossed."""
    seen = 0
    async for chunk in chunks:
        seen += len(chunk)
        if seen > limit:
            raise on_exceed(seen)
        yield chunk


class Base64Decoder:
    """Decodes base64 fed in arbitrary pieces, with the same result for any split.

    Accepted: the standard and the URL-safe alphabets (mixed too), spaces, tabs, CR and
    LF anywhere (MIME encoders wrap lines at 76), padding optional but only at the very
    end. Anything else (another character, data after padding, a lone trailing
    character) is a 400 naming ``field``. Each piece is decoded in place: only the at
    most three characters of an unfinished quad are carried over, so no piece is copied
    whole.
    """

    def __init__(self, field: str = "media_data") -> None:
        self._carry = b""
        self._field = field
        self._padded = False  # a quad with '=' was decoded: nothing may follow it

    def feed(self, data: bytes) -> bytes:
        if b"\n" in data or b"\r" in data or b" " in data or b"\t" in data:
            data = data.translate(None, b" \t\r\n")
        head = b""
        if self._carry:
            need = 4 - len(self._carry)
            quad, data = self._carry + data[:need], data[need:]
            if len(quad) < 4:
                self._carry = quad
                return b""
            head = self._decode(quad)
        usable = len(data) - len(data) % 4
        self._carry = data[usable:]
        body = self._decode(data[:usable] if usable != len(data) else data)
        return head + body if head else body

    def finish(self) -> bytes:
        carry, self._carry = self._carry, b""
        if not carry:
            return b""
        # Unpadded tails are common (URL-safe encoders drop '='): pad them.
        return self._decode(carry + b"=" * (-len(carry) % 4))

    def _decode(self, data: bytes) -> bytes:
        if not data:
            return b""
        if self._padded:  # 'QQ==' then more: refused whole, so refused in pieces too
            raise errors.BadParameter(f"{self._field} is not valid base64.")
        if b"-" in data or b"_" in data:
            data = data.replace(b"-", b"+").replace(b"_", b"/")
        try:
            out = binascii.a2b_base64(data, strict_mode=True)
        except binascii.Error as exc:
            raise errors.BadParameter(f"{self._field} is not valid base64.") from exc
        self._padded = data.endswith(b"=")
        return out


class PercentDecoder:
    """Decodes the percent-escapes of a urlencoded value fed in pieces.

    Base64 only ever needs ``%2B %2F %3D`` (and ``+`` for an encoded space, which base64
    never contains), so those take a ``bytes.replace`` fast path; anything else falls
    back to the generic decoder for that piece.
    """

    def __init__(self) -> None:
        self._carry = b""

    def feed(self, data: bytes) -> bytes:
        data = self._carry + data
        cut = data.rfind(b"%", max(0, len(data) - 2))
        if cut != -1:
            data, self._carry = data[:cut], data[cut:]
        else:
            self._carry = b""
        return self._decode(data)

    def finish(self) -> bytes:
        carry, self._carry = self._carry, b""
        return self._decode(carry)

    @staticmethod
    def _decode(data: bytes) -> bytes:
        if b"%" not in data:
            return data
        # Encoders write upper-case escapes; three passes cover all base64 needs.
        fast = data.replace(b"%2B", b"+").replace(b"%2F", b"/").replace(b"%3D", b"=")
        if b"%" in fast:
            return unquote_to_bytes(fast)
        return fast


def b64decode_all(data: str | bytes, field: str) -> bytes:
    """A whole base64 value (v2 JSON ``media``), by the rules of ``Base64Decoder``."""
    if isinstance(data, str):
        if not data.isascii():
            raise errors.BadParameter(f"{field} is not valid base64.")
        data = data.encode("ascii")
    decoder = Base64Decoder(field)
    return decoder.feed(data) + decoder.finish()


async def b64decoded(
    chunks: AsyncIterable[bytes], field: str = "media_data"
) -> AsyncIterator[bytes]:
    decoder = Base64Decoder(field)
    async for chunk in chunks:
        out = decoder.feed(chunk)
        if out:
            yield out
    tail = decoder.finish()
    if tail:
        yield tail

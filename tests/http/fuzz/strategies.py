"""Random bodies, random chunk splits, and the reference parses they are checked against.

The references are the standard libraries' whole-body parses: python-multipart's
``FormParser`` fed the body in one write, ``urllib.parse.parse_qsl``, ``base64`` and
``urllib.parse.unquote_to_bytes``.
"""

from __future__ import annotations

import base64
import itertools
import re
import string
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

from hypothesis import strategies as st
from python_multipart import FormParser
from python_multipart.multipart import File

__all__ = [
    "Part",
    "b64_reference",
    "boundaries",
    "chunked",
    "cut",
    "cuts",
    "feed",
    "multipart_body",
    "multipart_reference",
    "nasty_bytes",
    "parts",
    "qsl_reference",
]

# RFC 2046 bchars without the space (allowed inside, not last: kept out for simplicity).
BOUNDARY_ALPHABET = string.ascii_letters + string.digits + "'()+_,-./:=?"
boundaries = st.text(BOUNDARY_ALPHABET, min_size=1, max_size=70)
_WHITESPACE = b" \t\r\n"

_SHARP = [b"\r\n", b"\r", b"\n", b"--", b"\r\n--", b"\r\n\r\n", b"\x00", b"\xff", b"=", b"&",
          b"%", b"%2", b"%41", b"%zz", b"+", b";", b'"', "é".encode(), "😀".encode()]  # fmt: skip


def nasty_bytes(near: bytes = b"", max_atoms: int = 8) -> st.SearchStrategy[bytes]:
    """Bytes made of random binary, UTF-8, CR/LF, ``--``, escapes and prefixes of ``near``
    (a boundary), glued together. (Few, cheap draws: generation is most of a run's time.)"""
    sharp = [*_SHARP, b"--" + near, *(b"\r\n--" + near[:k] for k in range(len(near)))]
    atom = st.binary(max_size=24) | st.sampled_from(sharp if near else _SHARP)
    return st.lists(atom, max_size=max_atoms).map(b"".join)


cuts = st.lists(st.integers(0, 1 << 16), max_size=8)
"""Where to cut a body: positions taken modulo its length + 1 (see ``cut``)."""


def cut(data: bytes, at: Sequence[int]) -> list[bytes]:
    """``data`` cut at the positions ``at`` (modulo ``len(data) + 1``; empty pieces stay)."""
    edges = [0, *sorted(a % (len(data) + 1) for a in at), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


async def feed(pieces: Sequence[bytes]) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


def chunked(data: bytes, sizes: Sequence[int]) -> list[bytes]:
    """``data`` in pieces of the given sizes, cycled (every size >= 1)."""
    out, at, i = [], 0, 0
    while at < len(data):
        out.append(data[at : at + sizes[i % len(sizes)]])
        at += sizes[i % len(sizes)]
        i += 1
    return out


# Multipart.


@dataclass(frozen=True)
class Part:
    name: str
    data: bytes
    filename: str | None = None
    content_type: str | None = None
    transfer_encoding: str | None = None

    def head(self, case: int) -> bytes:
        disposition = f'form-data; name="{self.name}"'
        if self.filename is not None:
            disposition += f'; filename="{self.filename}"'
        lines = [("Content-Disposition", disposition)]
        if self.content_type is not None:
            lines.append(("Content-Type", self.content_type))
        if self.transfer_encoding is not None:
            lines.append(("Content-Transfer-Encoding", self.transfer_encoding))
        styles = (str, str.lower, str.upper)
        return b"".join(
            f"{styles[(case + i) % 3](key)}: {value}\r\n".encode() for i, (key, value) in
            enumerate(lines)
        )  # fmt: skip


_NAME = st.sampled_from(
    ["a", "", "media_id", "é", "名前", "😀", "a b", "a;b", "a=b", "a&b", "--", "x'y", "%41", "+"]
) | st.text(string.printable.replace('"', "").replace("\\", "").strip(), max_size=8)
_FILENAME = st.none() | st.sampled_from(["blob", "", "a.mp4", "é.png", "a;b.gif", "'name.mp4'"])


def parts(boundary: bytes, names: st.SearchStrategy[str] = _NAME) -> st.SearchStrategy[Part]:
    return st.builds(
        Part,
        name=names,
        data=nasty_bytes(boundary),
        filename=_FILENAME,
        content_type=st.none() | st.sampled_from(["text/plain", "application/octet-stream"]),
    )


def fits(part: Part, boundary: bytes) -> bool:
    """The part's data does not hold its own delimiter (a body no parser can tell)."""
    delimiter = b"\r\n--" + boundary
    return (b"\r\n" + part.data + delimiter).find(delimiter) == len(part.data) + 2


def multipart_body(
    boundary: bytes, body_parts: Sequence[Part], *, epilogue: bytes = b"\r\n", case: int = 0
) -> bytes:
    out = b"".join(
        b"--" + boundary + b"\r\n" + part.head(case + i) + b"\r\n" + part.data + b"\r\n"
        for i, part in enumerate(body_parts)
    )
    return out + b"--" + boundary + b"--" + epilogue


def multipart_reference(body: bytes, boundary: bytes) -> list[tuple[str, bytes]]:
    """python-multipart's non-streaming parse: the whole body in one ``write``."""
    found: list[tuple[str, bytes]] = []

    def on_field(field: object) -> None:
        found.append((_name(getattr(field, "field_name", b"")), getattr(field, "value", b"")))

    def on_file(file: File) -> None:
        file.file_object.seek(0)
        found.append((_name(file.field_name), file.file_object.read()))

    parser = FormParser(
        "multipart/form-data",
        on_field,
        on_file,
        boundary=boundary,
        config={"MAX_MEMORY_FILE_SIZE": 1 << 30},
    )
    parser.write(body)
    parser.finalize()
    return [(name, value or b"") for name, value in found]


def _name(raw: bytes | None) -> str:
    return (raw or b"").decode("utf-8", "replace")


# Urlencoded and the decoders.


def qsl_reference(body: bytes) -> list[tuple[str, bytes]]:
    """``parse_qsl`` byte-exact: latin-1 both ways keeps every byte and every escape,
    then names are read as UTF-8 (values stay bytes)."""
    pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="latin-1")
    return [(n.encode("latin-1").decode("utf-8", "replace"), v.encode("latin-1")) for n, v in pairs]


_B64 = re.compile(rb"([A-Za-z0-9+/_-]*)(={0,2})")


def b64_reference(text: bytes) -> bytes | None:
    """What the service accepts as base64, as ``base64.b64decode(validate=True)`` reads
    it once whitespace (SP, TAB, CR, LF) is dropped, the URL-safe alphabet mapped and
    missing padding added; None where it is refused. Padding only at the very end, and
    never more than the last quad needs."""
    stripped = text.translate(None, _WHITESPACE)
    match = _B64.fullmatch(stripped)
    if match is None:
        return None
    data, pads = match.groups()
    tail = len(data) % 4
    if tail == 1 or (pads and (tail == 0 or tail + len(pads) > 4)):
        return None
    data = data.replace(b"-", b"+").replace(b"_", b"/")
    return base64.b64decode(data + b"=" * (-len(data) % 4), validate=True)

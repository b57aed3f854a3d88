"""Validate SRT and WebVTT subtitle files (spec §4.6) and return their cues.

Parsing is strict where players disagree (UTF-8 only, well-formed timings, end not
before start) and lenient where files in the wild commonly differ from the letter of
the format (a BOM, CRLF line ends, ``.`` instead of ``,`` in SRT times, cue settings
and styling tags are kept as text). Subtitle files are small, so this is synchronous.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from app.processing.errors import InvalidMedia, UnsupportedMedia

__all__ = ["MAX_SUBTITLE_BYTES", "Cue", "parse_subtitles"]

MAX_SUBTITLE_BYTES = 1024 * 1024  # the spec leaves the limit UNCONFIRMED (§4.6)

_SRT_TIME = r"(\d+):([0-5]\d):([0-5]\d)[,.](\d{3})"
_VTT_TIME = r"(?:(\d+):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_SRT_TIMING = re.compile(rf"^{_SRT_TIME}\s*-->\s*{_SRT_TIME}(?:\s.*)?$")
_VTT_TIMING = re.compile(rf"^{_VTT_TIME}[ \t]+-->[ \t]+{_VTT_TIME}(?:[ \t].*)?$")
_VTT_HEADER = re.compile(r"^WEBVTT(?:[ \t].*)?$")
_VTT_SKIPPED_BLOCKS = re.compile(r"^(?:NOTE|STYLE|REGION)(?:[ \t].*)?$")


@dataclass(frozen=True, slots=True)
class Cue:
    start_ms: int
    end_ms: int
    text: str
    identifier: str | None = None


@dataclass(frozen=True, slots=True)
class _Block:
    line: int  # 1-based line number of the block's first line, for error messages
    lines: list[str]


def parse_subtitles(path: Path, *, max_bytes: int = MAX_SUBTITLE_BYTES) -> list[Cue]:
    """Parse ``path`` as WebVTT (when it starts with ``WEBVTT``) or SRT.

    Raises ``UnsupportedMedia`` when the file is larger than ``max_bytes`` and
    ``InvalidMedia`` when it is not UTF-8, is malformed, or holds no cue.
    """
    size = path.stat().st_size
    if size > max_bytes:
        raise UnsupportedMedia(f"Subtitles file too large, maximum:{max_bytes}, actual:{size}")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidMedia("Subtitles must be UTF-8 encoded") from exc
    blocks = _blocks(text.replace("\r\n", "\n").replace("\r", "\n"))
    if blocks and _VTT_HEADER.match(blocks[0].lines[0]):
        cues = [_vtt_cue(block) for block in blocks[1:] if not _is_vtt_metadata(block)]
    else:
        cues = [_srt_cue(block) for block in blocks]
    if not cues:
        raise InvalidMedia("Subtitles contain no cues")
    return cues


def _blocks(text: str) -> list[_Block]:
    blocks: list[_Block] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            if not current:
                start = number
            current.append(line.rstrip())
        elif current:
            blocks.append(_Block(start, current))
            current = []
    if current:
        blocks.append(_Block(start, current))
    return blocks


def _is_vtt_metadata(block: _Block) -> bool:
    return _VTT_SKIPPED_BLOCKS.match(block.lines[0]) is not None


def _srt_cue(block: _Block) -> Cue:
    lines = block.lines
    if len(lines) < 2 or not lines[0].strip().isdigit():
        raise InvalidMedia(f"Invalid SRT cue at line {block.line}: expected a cue number")
    timing = _SRT_TIMING.match(lines[1].strip())
    if timing is None:
        raise InvalidMedia(f"Invalid SRT timing at line {block.line + 1}: {lines[1]!r}")
    return _cue(block.line + 1, timing, lines[2:], lines[0].strip())


def _vtt_cue(block: _Block) -> Cue:
    lines = block.lines
    identifier: str | None = None
    if "-->" not in lines[0]:
        identifier, lines = lines[0], lines[1:]
    timing_line = block.line + (identifier is not None)
    timing = _VTT_TIMING.match(lines[0]) if lines else None
    if timing is None:
        raise InvalidMedia(f"Invalid WebVTT cue timing at line {timing_line}")
    return _cue(timing_line, timing, lines[1:], identifier)


def _cue(line: int, timing: re.Match[str], text: list[str], identifier: str | None) -> Cue:
    groups = timing.groups()
    start, end = _millis(groups[:4]), _millis(groups[4:])
    if end < start:
        raise InvalidMedia(f"Cue ends before it starts at line {line}")
    return Cue(start_ms=start, end_ms=end, text="\n".join(text), identifier=identifier)


def _millis(parts: tuple[str | None, ...]) -> int:
    hours, minutes, seconds, millis = (int(p or 0) for p in parts)
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis

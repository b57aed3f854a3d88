from pathlib import Path

import pytest

from app.processing.errors import InvalidMedia, UnsupportedMedia
from app.processing.subtitles import Cue, parse_subtitles

SRT = """1
00:00:01,000 --> 00:00:02,500
Hello

2
00:00:03,000 --> 00:01:04,250
Two
lines
"""

VTT = """WEBVTT - a title

NOTE written by hand

intro
00:01.000 --> 00:02.500 align:start
Hello

01:00:03.000 --> 01:00:04.000
<v Bob>World
"""


def write(tmp_path: Path, content: str | bytes, name: str = "subs.srt") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def test_srt_cues_are_parsed(tmp_path: Path) -> None:
    cues = parse_subtitles(write(tmp_path, SRT))

    assert cues == [
        Cue(1000, 2500, "Hello", "1"),
        Cue(3000, 64250, "Two\nlines", "2"),
    ]


def test_srt_with_bom_and_crlf_is_accepted(tmp_path: Path) -> None:
    content = "\ufeff" + SRT.replace("\n", "\r\n")

    cues = parse_subtitles(write(tmp_path, content))

    assert [c.text for c in cues] == ["Hello", "Two\nlines"]


def test_webvtt_cues_are_parsed_and_notes_skipped(tmp_path: Path) -> None:
    cues = parse_subtitles(write(tmp_path, VTT, "subs.vtt"))

    assert cues == [
        Cue(1000, 2500, "Hello", "intro"),
        Cue(3_603_000, 3_604_000, "<v Bob>World", None),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("1\n00:00:01,000 -> 00:00:02,000\nHi\n", "Invalid SRT timing at line 2"),
        ("one\n00:00:01,000 --> 00:00:02,000\nHi\n", "Invalid SRT cue at line 1"),
        ("1\n00:00:05,000 --> 00:00:02,000\nHi\n", "Cue ends before it starts at line 2"),
        ("1\n00:00:01,000 --> 00:00:02,000\nHi\n\n2\n00:61:00,000 --> 00:62:00,000\n", "line 6"),
        ("WEBVTT\n\n00:01,000 --> 00:02.000\nHi\n", "Invalid WebVTT cue timing at line 3"),
        ("WEBVTT\n\nNOTE only a note\n", "Subtitles contain no cues"),
        ("\n\n", "Subtitles contain no cues"),
    ],
)
def test_malformed_subtitles_are_invalid_media(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(InvalidMedia, match=message):
        parse_subtitles(write(tmp_path, content))


def test_non_utf8_subtitles_are_invalid_media(tmp_path: Path) -> None:
    content = "1\n00:00:01,000 --> 00:00:02,000\nCafé\n".encode("latin-1")

    with pytest.raises(InvalidMedia, match="UTF-8"):
        parse_subtitles(write(tmp_path, content))


def test_oversized_subtitles_are_unsupported(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedMedia, match="maximum:100, actual:"):
        parse_subtitles(write(tmp_path, SRT * 10), max_bytes=100)

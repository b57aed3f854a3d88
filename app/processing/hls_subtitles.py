"""Subtitle tracks for HLS: cues to WebVTT, a one-segment subtitle playlist, and the
master playlist rewritten to offer the tracks (``EXT-X-MEDIA:TYPE=SUBTITLES``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from app.processing.subtitles import Cue

__all__ = ["SubtitleTrack", "cues_to_vtt", "master_with_subtitles", "subtitle_playlist"]

GROUP = "subs"


@dataclass(frozen=True, slots=True)
class SubtitleTrack:
    language_code: str
    display_name: str
    uri: str  # relative to the master playlist


def _stamp(ms: int) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def cues_to_vtt(cues: Sequence[Cue]) -> str:
    blocks = ["WEBVTT", ""]
    for cue in cues:
        blocks += [f"{_stamp(cue.start_ms)} --> {_stamp(cue.end_ms)}", cue.text, ""]
    return "\n".join(blocks)


def subtitle_playlist(duration_ms: int, vtt_name: str) -> str:
    seconds = max(duration_ms, 1) / 1000
    return "\n".join(
        [
            "#EXTM3U",
            "#EXT-X-VERSION:3",
            f"#EXT-X-TARGETDURATION:{math.ceil(seconds)}",
            "#EXT-X-MEDIA-SEQUENCE:0",
            "#EXT-X-PLAYLIST-TYPE:VOD",
            f"#EXTINF:{seconds:.3f},",
            vtt_name,
            "#EXT-X-ENDLIST",
            "",
        ]
    )


def _quoted(value: str) -> str:
    return '"' + value.replace('"', "'").replace("\n", " ") + '"'


def master_with_subtitles(base: str, tracks: Sequence[SubtitleTrack]) -> str:
    """``base`` (the master as the transcoder wrote it) offering ``tracks``; with no
    tracks it is ``base`` unchanged."""
    if not tracks:
        return base
    lines = base.rstrip("\n").split("\n")
    media = [
        "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=" + _quoted(GROUP)
        + ",NAME=" + _quoted(t.display_name) + ",LANGUAGE=" + _quoted(t.language_code.lower())
        + ",AUTOSELECT=YES,DEFAULT=" + ("YES" if i == 0 else "NO") + ",URI=" + _quoted(t.uri)
        for i, t in enumerate(tracks)
    ]  # fmt: skip
    out: list[str] = []
    for line in lines:
        if line.startswith("#EXT-X-STREAM-INF:") and "SUBTITLES=" not in line:
            line = f"{line},SUBTITLES={_quoted(GROUP)}"
        out.append(line)
    # The media tags go before the first variant stream.
    first = next(
        (i for i, line in enumerate(out) if line.startswith("#EXT-X-STREAM-INF")), len(out)
    )
    return "\n".join(out[:first] + media + out[first:]) + "\n"

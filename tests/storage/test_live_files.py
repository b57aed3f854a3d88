"""``LiveFiles``, the live ingest's door to its local files: what nginx writes (HLS,
recordings) is read and removed only through it, and only inside its folders."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from app.storage.live import LiveFiles

PLAYLIST = (
    b"#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:3\n#EXTINF:1.0,\n3.ts\n#EXTINF:1.0,\n4.ts\n"
    b"#EXTINF:1.0,\n5.ts\n"
)


def _stream(files: LiveFiles, mode: str = "low", name: str = "sabc123") -> Path:
    folder = files.hls / mode / name
    folder.mkdir(parents=True)
    (folder / "index.m3u8").write_bytes(PLAYLIST)
    for number in (3, 4, 5):
        (folder / f"{number}.ts").write_bytes(b"\x47" * 188)
    return folder


def test_prepare_makes_every_folder(tmp_path: Path) -> None:
    files = LiveFiles(tmp_path / "live")
    files.prepare()
    for folder in (files.recordings, files.run, files.hls / "low", files.hls / "high"):
        assert folder.is_dir()


def test_the_config_is_replaced_whole(tmp_path: Path) -> None:
    files = LiveFiles(tmp_path / "live")
    first = files.write_config("one")
    second = files.write_config("two")
    assert first == second
    assert second.read_text() == "two"
    assert not second.with_suffix(".tmp").exists()


def test_the_hook_secret_is_made_once_and_private(tmp_path: Path) -> None:
    files = LiveFiles(tmp_path / "live")
    secret = files.hook_secret()
    assert len(secret) >= 32
    assert files.hook_secret() == secret
    assert LiveFiles(tmp_path / "live").hook_secret() == secret  # another process
    mode = stat.S_IMODE(os.stat(files.run / "hook-secret").st_mode)
    assert mode == 0o600


def test_an_empty_secret_file_is_made_again(tmp_path: Path) -> None:
    files = LiveFiles(tmp_path / "live")
    files.prepare()
    (files.run / "hook-secret").write_text("")
    (files.run / "hook-secret").unlink()
    assert files.hook_secret()


def test_playlists_and_segments_of_a_stream(tmp_path: Path) -> None:
    files = LiveFiles(tmp_path / "live")
    folder = _stream(files)
    assert files.playlist("low", "sabc123") == PLAYLIST
    assert files.playlist("high", "sabc123") is None  # not written
    assert files.segment("low", "sabc123", "4.ts") == folder / "4.ts"
    assert files.segment("low", "sabc123", "9.ts") is None  # gone
    assert [p.name for p in files.recent_segments("low", "sabc123", 2)] == ["4.ts", "5.ts"]
    assert files.recent_segments("high", "sabc123", 2) == []


def test_names_outside_the_folders_are_refused(tmp_path: Path) -> None:
    files = LiveFiles(tmp_path / "live")
    _stream(files)
    (files.hls / "secret.txt").write_text("x")
    assert files.playlist("other", "sabc123") is None
    assert files.playlist("low", "../low") is None
    assert files.playlist("low", "SABC") is None
    assert files.segment("low", "sabc123", "../../secret.txt") is None
    assert files.segment("low", "sabc123", "index.m3u8") is None
    assert files.segment("x", "sabc123", "4.ts") is None


def test_a_stream_is_removed_in_both_modes(tmp_path: Path) -> None:
    files = LiveFiles(tmp_path / "live")
    _stream(files, "low")
    _stream(files, "high")
    files.remove_stream("sabc123")
    assert not (files.hls / "low" / "sabc123").exists()
    assert not (files.hls / "high" / "sabc123").exists()
    files.remove_stream("sabc123")  # again: nothing to do
    files.remove_stream("../x")  # not a stream name


def test_recordings_are_found_only_in_their_folder(tmp_path: Path) -> None:
    files = LiveFiles(tmp_path / "live")
    files.prepare()
    recording = files.recordings / "sabc123-1796412830.flv"
    recording.write_bytes(b"FLV")
    outside = tmp_path / "elsewhere.flv"
    outside.write_bytes(b"FLV")
    assert files.recording_name(str(recording)) == recording.name
    assert files.recording_name(str(outside)) is None
    assert files.recording_name(str(files.recordings / "missing.flv")) is None
    assert files.recording_name("\x00") is None
    assert files.recording(recording.name) == recording
    assert files.recording("../elsewhere.flv") is None
    assert files.recording(".hidden") is None
    files.remove_recording("../elsewhere.flv")
    files.remove_recording(".hidden")
    assert outside.exists()
    files.remove_recording(recording.name)
    files.remove_recording(recording.name)  # gone already
    assert not recording.exists()

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import pytest
from PIL import Image

from app.processing.errors import InvalidMedia
from app.processing.images import inspect_image
from app.processing.probe import MediaProbe, probe
from app.processing.video import VideoOutputs, gif_to_mp4, transcode
from app.storage import Scratch
from app.storage.filesystem import FilesystemStore
from tests.processing.conftest import stored_files


def decode_errors(path: Path) -> str:
    """What ffmpeg complains about while decoding the whole file ("" when clean)."""
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "null", "-"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    return result.stderr if result.returncode == 0 else f"exit {result.returncode}: {result.stderr}"


async def transcode_and_publish(
    store: FilesystemStore, src: Path, facts: MediaProbe, **options: Any
) -> None:
    """What processing does: transcode in a scratch folder, then publish it."""
    async with store.scratch() as work:
        await transcode(src, work, facts, preset="ultrafast", **options)
        await work.publish("1/variants/")


def listing(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def top_level_boxes(path: Path) -> list[str]:
    """The ISO-BMFF top-level box types, in file order."""
    data, boxes, offset = path.read_bytes(), [], 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        boxes.append(data[offset + 4 : offset + 8].decode("latin-1"))
        if size < 8:
            break
        offset += size
    return boxes


def playlist_entries(playlist: Path) -> list[str]:
    lines = playlist.read_text().splitlines()
    return [line for line in lines if line and not line.startswith("#")]


@pytest.fixture(scope="module")
async def progress_720p() -> list[int]:
    return []


@pytest.fixture(scope="module")
async def outputs_720p(
    clip_720p: Path, tmp_path_factory: pytest.TempPathFactory, progress_720p: list[int]
) -> AsyncIterator[VideoOutputs]:
    async def on_progress(percent: int) -> None:
        progress_720p.append(percent)

    store = FilesystemStore(tmp_path_factory.mktemp("video-store"))
    facts = await probe(clip_720p)
    async with store.scratch() as work:
        yield await transcode(
            clip_720p, work, facts, on_progress=on_progress, threads=2, preset="ultrafast"
        )


class TestTranscode:
    async def test_renditions_follow_the_ladder_and_decode(
        self, outputs_720p: VideoOutputs
    ) -> None:
        sizes = [(r.width, r.height, r.bitrate) for r in outputs_720p.renditions]

        assert sizes == [(320, 180, 320_000), (640, 360, 832_000), (1280, 720, 2_176_000)]
        for rendition in outputs_720p.renditions:
            assert decode_errors(rendition.path) == ""
            facts = await probe(rendition.path)
            assert (facts.width, facts.height) == (rendition.width, rendition.height)
            assert facts.video_codec == "AVC"
            assert facts.chroma_subsampling == "4:2:0"
            assert (facts.audio_codec, facts.audio_profile) == ("AAC", "LC")
            assert abs(facts.duration_ms - 3000) < 100

    async def test_renditions_are_faststart(self, outputs_720p: VideoOutputs) -> None:
        for rendition in outputs_720p.renditions:
            boxes = top_level_boxes(rendition.path)
            assert boxes.index("moov") < boxes.index("mdat")

    async def test_hls_master_lists_every_rendition_and_segments_exist(
        self, outputs_720p: VideoOutputs
    ) -> None:
        master = outputs_720p.hls_master

        assert master.name == "master.m3u8"
        text = master.read_text()
        assert text.startswith("#EXTM3U")
        for rendition in outputs_720p.renditions:
            assert f"RESOLUTION={rendition.width}x{rendition.height}" in text
        media_playlists = [master.parent / entry for entry in playlist_entries(master)]
        assert media_playlists == [r.playlist for r in outputs_720p.renditions]
        for playlist in media_playlists:
            assert "#EXT-X-PLAYLIST-TYPE:VOD" in playlist.read_text()
            segments = [playlist.parent / entry for entry in playlist_entries(playlist)]
            assert segments
            assert all(segment.is_file() and segment.stat().st_size > 0 for segment in segments)
        assert decode_errors(media_playlists[0]) == ""

    async def test_preview_and_summary(self, outputs_720p: VideoOutputs) -> None:
        with Image.open(outputs_720p.preview) as preview:
            assert preview.format == "JPEG"
            assert preview.size == (1280, 720)
        assert outputs_720p.duration_ms == 3000
        assert outputs_720p.aspect_ratio == (16, 9)
        assert (outputs_720p.width, outputs_720p.height) == (1280, 720)

    async def test_progress_rises_to_100(
        self, outputs_720p: VideoOutputs, progress_720p: list[int]
    ) -> None:
        assert progress_720p[0] == 0
        assert progress_720p[-1] == 100
        assert progress_720p == sorted(set(progress_720p))  # strictly rising
        assert any(0 < p <= 90 for p in progress_720p)  # parsed from ffmpeg's out_time_us

    async def test_no_temporary_files_are_left(self, outputs_720p: VideoOutputs) -> None:
        out_dir = outputs_720p.preview.parent

        assert listing(out_dir) == ["pl", "preview.jpg", "vid"]

    async def test_silent_portrait_video(
        self, clip_portrait_silent: Path, scratch: Scratch
    ) -> None:
        facts = await probe(clip_portrait_silent)

        outputs = await transcode(
            clip_portrait_silent, scratch, facts, threads=1, preset="ultrafast"
        )

        assert [(r.width, r.height, r.audio_bitrate) for r in outputs.renditions] == [
            (180, 320, 0),
            (360, 640, 0),
        ]
        assert outputs.aspect_ratio == (9, 16)
        for rendition in outputs.renditions:
            assert decode_errors(rendition.path) == ""
            assert not (await probe(rendition.path)).has_audio
        assert len(playlist_entries(outputs.hls_master)) == 2

    async def test_rotated_video_is_transcoded_upright(
        self, clip_rotated: Path, scratch: Scratch
    ) -> None:
        facts = await probe(clip_rotated)

        outputs = await transcode(clip_rotated, scratch, facts, threads=1, preset="ultrafast")

        assert (facts.width, facts.height) == (180, 320)
        assert [(r.width, r.height) for r in outputs.renditions] == [(180, 320)]
        written = await probe(outputs.renditions[0].path)
        assert (written.width, written.height, written.rotation) == (180, 320, 0)

    async def test_undecodable_input_is_invalid_media_and_cleaned_up(
        self, clip_720p: Path, clip_truncated: Path, store: FilesystemStore
    ) -> None:
        facts = await probe(clip_720p)  # claims to be fine; the bytes are not

        with pytest.raises(InvalidMedia, match="Unsupported video format"):
            await transcode_and_publish(store, clip_truncated, facts, threads=1)

        assert stored_files(store) == []

    async def test_failing_progress_callback_stops_and_cleans_up(
        self, clip_720p: Path, store: FilesystemStore
    ) -> None:
        class Stop(Exception):
            pass

        async def on_progress(percent: int) -> None:
            raise Stop

        facts = await probe(clip_720p)

        with pytest.raises(Stop):
            await transcode_and_publish(store, clip_720p, facts, on_progress=on_progress)

        assert stored_files(store) == []


class TestGifToMp4:
    async def test_gif_becomes_silent_even_sized_mp4(
        self, animated_gif: Path, tmp_path: Path
    ) -> None:
        gif = await inspect_image(animated_gif)

        outputs = await gif_to_mp4(animated_gif, tmp_path, gif, threads=1, preset="ultrafast")

        assert (outputs.width, outputs.height) == (120, 90)
        assert outputs.aspect_ratio == (4, 3)
        assert decode_errors(outputs.mp4) == ""
        facts = await probe(outputs.mp4)
        assert (facts.width, facts.height) == (120, 90)
        assert facts.chroma_subsampling == "4:2:0"
        assert not facts.has_audio
        assert facts.frame_count == 10
        with Image.open(outputs.preview) as preview:
            assert preview.size == (120, 90)
        assert listing(tmp_path) == ["preview.jpg", "tweet_video.mp4"]

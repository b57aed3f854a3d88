from pathlib import Path

import pytest

from app.processing.errors import InvalidMedia
from app.processing.probe import probe


async def test_probe_reads_h264_aac_mp4(clip_720p: Path) -> None:
    facts = await probe(clip_720p)

    assert facts.container == "mp4"
    assert (facts.width, facts.height) == (1280, 720)
    assert facts.duration_ms == 3000
    assert facts.frame_rate == pytest.approx(30.0)
    assert facts.frame_count == 90
    assert facts.video_codec == "AVC"
    assert facts.scan_type == "progressive"
    assert facts.pixel_aspect_ratio == pytest.approx(1.0)
    assert facts.chroma_subsampling == "4:2:0"
    assert facts.has_audio
    assert (facts.audio_codec, facts.audio_profile, facts.audio_channels) == ("AAC", "LC", 1)


async def test_probe_tells_quicktime_from_mp4(clip_mov: Path) -> None:
    facts = await probe(clip_mov)

    assert facts.container == "mov"


async def test_probe_of_silent_video_has_no_audio(clip_portrait_silent: Path) -> None:
    facts = await probe(clip_portrait_silent)

    assert not facts.has_audio
    assert facts.audio_codec is None
    assert (facts.width, facts.height) == (360, 640)


async def test_truncated_mp4_is_invalid_media(clip_truncated: Path) -> None:
    with pytest.raises(InvalidMedia) as caught:
        await probe(clip_truncated)

    assert caught.value.code == 1
    assert caught.value.name == "InvalidMedia"


async def test_non_media_file_is_invalid_media(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("not a video at all\n" * 50)

    with pytest.raises(InvalidMedia):
        await probe(path)


async def test_image_is_not_a_video(jpeg_with_gps: Path) -> None:
    with pytest.raises(InvalidMedia):
        await probe(jpeg_with_gps)

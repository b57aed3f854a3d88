from dataclasses import replace
from pathlib import Path

import pytest

from app.processing.errors import UnsupportedMedia
from app.processing.probe import ImageProbe, MediaProbe, probe
from app.processing.rules import (
    AMPLIFY_VIDEO,
    GIF_RULES,
    TWEET_VIDEO,
    VIDEO_RULES,
    VideoRules,
    check_gif,
    check_image,
    check_video,
)

GOOD = MediaProbe(
    container="mp4",
    duration_ms=10_000,
    width=1280,
    height=720,
    frame_rate=30.0,
    frame_count=300,
    scan_type="progressive",
    video_codec="AVC",
    pixel_aspect_ratio=1.0,
    chroma_subsampling="4:2:0",
    audio_codec="AAC",
    audio_profile="LC",
    audio_channels=2,
)


class TestCheckVideoOnRealFiles:
    async def test_720p_clip_passes(self, clip_720p: Path) -> None:
        check_video(await probe(clip_720p), TWEET_VIDEO)

    async def test_150s_clip_is_too_long_for_tweets(self, clip_150s: Path) -> None:
        facts = await probe(clip_150s)

        with pytest.raises(UnsupportedMedia) as caught:
            check_video(facts, VIDEO_RULES["tweet_video"])

        assert caught.value.code == 3
        assert caught.value.message == "Duration too long, maximum:140000, actual:150000"

    async def test_150s_clip_is_fine_for_amplify(self, clip_150s: Path) -> None:
        check_video(await probe(clip_150s), VIDEO_RULES["amplify_video"])

    async def test_80fps_clip_is_refused(self, clip_80fps: Path) -> None:
        facts = await probe(clip_80fps)

        with pytest.raises(UnsupportedMedia) as caught:
            check_video(facts)

        assert caught.value.message == "Frame rate too high, maximum:60, actual:80"

    async def test_4000x200_clip_is_out_of_aspect_range(self, clip_4000x200: Path) -> None:
        facts = await probe(clip_4000x200)

        with pytest.raises(UnsupportedMedia) as caught:
            check_video(facts)

        assert caught.value.message == (
            "Aspect ratio out of range, minimum:1:3, maximum:3:1, actual:20:1"
        )


@pytest.mark.parametrize(
    ("changes", "rules", "message"),
    [
        (
            {"container": "webm"},
            TWEET_VIDEO,
            "Container not supported, allowed:mov,mp4, actual:webm",
        ),
        ({"duration_ms": 400}, TWEET_VIDEO, "Duration too short, minimum:500, actual:400"),
        (
            {"duration_ms": 600_001},
            AMPLIFY_VIDEO,
            "Duration too long, maximum:600000, actual:600001",
        ),
        (
            {"width": 1920, "height": 1080},
            TWEET_VIDEO,
            "Dimensions too large, maximum:1280x1024, actual:1920x1080",
        ),
        (
            {"width": 2560, "height": 1440},
            AMPLIFY_VIDEO,
            "Dimensions too large, maximum:1920x1200, actual:2560x1440",
        ),
        (
            {"width": 30, "height": 30},
            TWEET_VIDEO,
            "Dimensions too small, minimum:32x32, actual:30x30",
        ),
        (
            {"width": 400, "height": 1280},
            TWEET_VIDEO,
            "Aspect ratio out of range, minimum:1:3, maximum:3:1, actual:5:16",
        ),
        (
            {"scan_type": "interlaced"},
            TWEET_VIDEO,
            "Scan type not supported, required:progressive, actual:interlaced",
        ),
        (
            {"pixel_aspect_ratio": 1.333},
            TWEET_VIDEO,
            "Pixel aspect ratio not supported, required:1, actual:1.333",
        ),
        (
            {"chroma_subsampling": "4:2:2"},
            TWEET_VIDEO,
            "Pixel format not supported, required:4:2:0, actual:4:2:2",
        ),
        (
            {"audio_profile": "HE-AAC LC"},
            TWEET_VIDEO,
            "Audio codec not supported, required:AAC LC, actual:AAC HE-AAC LC",
        ),
        (
            {"audio_codec": "Opus", "audio_profile": None},
            TWEET_VIDEO,
            "Audio codec not supported, required:AAC LC, actual:Opus",
        ),
        (
            {"audio_channels": 6},
            TWEET_VIDEO,
            "Too many audio channels, maximum:2, actual:6",
        ),
    ],
)
def test_video_rule_breaches_name_the_rule_and_value(
    changes: dict[str, object], rules: VideoRules, message: str
) -> None:
    facts = replace(GOOD, **changes)  # type: ignore[arg-type]

    with pytest.raises(UnsupportedMedia) as caught:
        check_video(facts, rules)

    assert caught.value.message == message


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"width": 720, "height": 1280},  # portrait is measured long side / short side
        {"width": 720, "height": 720},
        {"frame_rate": 60.0},
        {"duration_ms": 500},
        {"duration_ms": 140_000},
        {"audio_codec": None, "audio_profile": None, "audio_channels": None},
        {"chroma_subsampling": None},
    ],
)
def test_video_within_limits_passes(changes: dict[str, object]) -> None:
    check_video(replace(GOOD, **changes))  # type: ignore[arg-type]


def test_rules_are_configurable_data() -> None:
    strict = replace(TWEET_VIDEO, max_duration_ms=30_000)

    with pytest.raises(UnsupportedMedia) as caught:
        check_video(replace(GOOD, duration_ms=33_878), strict)

    assert caught.value.message == "Duration too long, maximum:30000, actual:33878"


@pytest.mark.parametrize(
    ("gif", "message"),
    [
        (
            ImageProbe("GIF", 1281, 720, 10),
            "GIF dimensions too large, maximum:1280x1080, actual:1281x720",
        ),
        (
            ImageProbe("GIF", 100, 100, 351),
            "GIF has too many frames, maximum:350, actual:351",
        ),
        (
            ImageProbe("GIF", 1280, 1080, 220),
            "GIF too large, maximum pixels over all frames:300000000, actual:304128000",
        ),
    ],
)
def test_gif_rule_breaches(gif: ImageProbe, message: str) -> None:
    with pytest.raises(UnsupportedMedia) as caught:
        check_gif(gif, GIF_RULES)

    assert caught.value.message == message


def test_gif_within_limits_passes() -> None:
    check_gif(ImageProbe("GIF", 1280, 1080, 216))


def test_image_larger_than_8192_is_refused() -> None:
    with pytest.raises(UnsupportedMedia) as caught:
        check_image(ImageProbe("PNG", 10_000, 100))

    assert caught.value.message == (
        "Image dimensions too large, maximum:8192x8192, actual:10000x100"
    )

import pytest

from app.processing.variants import PHOTO_SIZES, fit_within, orientation, plan_renditions


def test_photo_sizes_match_the_twitter_sizes() -> None:
    table = [(s.name, s.width, s.height, s.resize) for s in PHOTO_SIZES]

    assert table == [
        ("thumb", 150, 150, "crop"),
        ("small", 680, 680, "fit"),
        ("medium", 1200, 1200, "fit"),
        ("large", 2048, 2048, "fit"),
        ("orig", None, None, "fit"),
    ]


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1280, 720), "landscape"),
        ((720, 1280), "portrait"),
        ((720, 720), "square"),
        ((1000, 900), "square"),
        ((1024, 768), "landscape"),
    ],
)
def test_orientation(size: tuple[int, int], expected: str) -> None:
    assert orientation(*size) == expected


@pytest.mark.parametrize(
    ("source", "names"),
    [
        ((1280, 720), ["320x180", "640x360", "1280x720"]),
        ((1920, 1080), ["320x180", "640x360", "1280x720"]),
        ((640, 360), ["320x180", "640x360"]),
        ((720, 1280), ["180x320", "360x640", "720x1280"]),
        ((720, 720), ["240x240", "480x480", "720x720"]),
        ((960, 720), ["240x180", "480x360", "960x720"]),  # 4:3 keeps its shape
        ((100, 56), ["100x56"]),  # smaller than every rung: its own size, once
        ((121, 91), ["120x90"]),  # odd sizes are rounded down to even
    ],
)
def test_plan_renditions_never_upscales(source: tuple[int, int], names: list[str]) -> None:
    assert [plan.name for plan in plan_renditions(*source)] == names


def test_plan_renditions_carries_ladder_bitrates() -> None:
    plans = plan_renditions(1280, 720)

    assert [(p.video_bitrate, p.audio_bitrate) for p in plans] == [
        (256_000, 64_000),
        (768_000, 64_000),
        (2_048_000, 128_000),
    ]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((2400, 1600, 680, 680), (680, 453)),
        ((1600, 2400, 2048, 2048), (1365, 2048)),
        ((100, 50, 680, 680), (100, 50)),
    ],
)
def test_fit_within(args: tuple[int, int, int, int], expected: tuple[int, int]) -> None:
    assert fit_within(*args) == expected

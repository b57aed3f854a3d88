import resource
from pathlib import Path

import pytest
from PIL import Image

from app.processing.errors import InvalidMedia, UnsupportedMedia
from app.processing.images import build_photo_variants, inspect_image
from app.processing.probe import ImageProbe
from app.processing.rules import ImageRules

METADATA_KEYS = {"exif", "xmp", "XML:com.adobe.xmp", "comment"}


def listing(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def contents(path: Path) -> bytes:
    return path.read_bytes()


class TestBuildPhotoVariants:
    async def test_every_size_is_written_with_twitter_geometry(
        self, jpeg_with_gps: Path, tmp_path: Path
    ) -> None:
        variants = await build_photo_variants(jpeg_with_gps, tmp_path)

        # The source is 2400x1600 with EXIF orientation 6, so it displays as 1600x2400.
        assert [(v.name, v.width, v.height, v.resize, v.format) for v in variants] == [
            ("thumb", 150, 150, "crop", "jpg"),
            ("small", 453, 680, "fit", "jpg"),
            ("medium", 800, 1200, "fit", "jpg"),
            ("large", 1365, 2048, "fit", "jpg"),
            ("orig", 1600, 2400, "fit", "jpg"),
        ]
        for variant in variants:
            with Image.open(variant.path) as image:
                assert image.format == "JPEG"
                assert image.size == (variant.width, variant.height)

    async def test_gps_and_all_metadata_are_stripped_from_every_size(
        self, jpeg_with_gps: Path, tmp_path: Path
    ) -> None:
        with Image.open(jpeg_with_gps) as source:  # the fixture really carries GPS
            assert source.getexif().get_ifd(0x8825)
        assert b"TestCam" in contents(jpeg_with_gps)

        variants = await build_photo_variants(jpeg_with_gps, tmp_path)

        for variant in variants:
            with Image.open(variant.path) as image:
                assert len(image.getexif()) == 0, variant.name
                assert not METADATA_KEYS & set(image.info), variant.name
            raw = contents(variant.path)
            assert b"GPS" not in raw
            assert b"TestCam" not in raw
            assert b"shot at home" not in raw

    async def test_exif_orientation_is_applied_to_pixels(
        self, jpeg_with_gps: Path, tmp_path: Path
    ) -> None:
        variants = await build_photo_variants(jpeg_with_gps, tmp_path)

        orig = next(v for v in variants if v.name == "orig")
        with Image.open(orig.path) as image:
            # The yellow band along the stored image's top lies along the right
            # edge once rotated 90° clockwise.
            red, green, blue = image.convert("RGB").getpixel((1550, 300))  # type: ignore[misc]
            assert red > 200
            assert green > 150
            assert blue < 80
            assert image.convert("RGB").getpixel((50, 300))[2] > 80  # type: ignore[index]

    async def test_png_with_alpha_stays_png_with_alpha(
        self, png_with_alpha: Path, tmp_path: Path
    ) -> None:
        variants = await build_photo_variants(png_with_alpha, tmp_path)

        assert {v.format for v in variants} == {"png"}
        with Image.open(tmp_path / "small.png") as image:
            assert image.mode == "RGBA"
            assert image.size == (680, 340)

    async def test_rerun_replaces_outputs_and_leaves_no_temp_files(
        self, png_with_alpha: Path, tmp_path: Path
    ) -> None:
        await build_photo_variants(png_with_alpha, tmp_path)

        await build_photo_variants(png_with_alpha, tmp_path)

        assert listing(tmp_path) == [
            "large.png",
            "medium.png",
            "orig.png",
            "small.png",
            "thumb.png",
        ]

    async def test_image_over_the_rules_is_refused_before_decoding(
        self, png_with_alpha: Path, tmp_path: Path
    ) -> None:
        out = tmp_path / "out"
        out.mkdir()

        with pytest.raises(UnsupportedMedia, match="maximum:500x500, actual:800x400"):
            await build_photo_variants(
                png_with_alpha, out, rules=ImageRules(max_width=500, max_height=500)
            )

        assert listing(out) == []

    async def test_truncated_jpeg_is_invalid_media(
        self, jpeg_with_gps: Path, tmp_path: Path
    ) -> None:
        truncated = tmp_path / "cut.jpg"
        truncated.write_bytes(contents(jpeg_with_gps)[:5000])
        out = tmp_path / "out"
        out.mkdir()

        with pytest.raises(InvalidMedia):
            await build_photo_variants(truncated, out)

        assert listing(out) == []


class TestDecompressionBomb:
    async def test_png_claiming_60000x60000_is_refused_without_allocating(
        self, png_bomb: Path, tmp_path: Path
    ) -> None:
        peak_before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

        with pytest.raises(UnsupportedMedia, match="Image too large") as caught:
            await build_photo_variants(png_bomb, tmp_path)

        peak_after_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert caught.value.code == 3
        assert "3600000000" in caught.value.message
        assert len(contents(png_bomb)) < 200
        # Decoding would need ~10 GB; refusing from the header needs nothing measurable.
        assert peak_after_kib - peak_before_kib < 100 * 1024
        assert listing(tmp_path) == []

    async def test_inspect_refuses_the_bomb_too(self, png_bomb: Path) -> None:
        with pytest.raises(UnsupportedMedia):
            await inspect_image(png_bomb)


class TestInspectImage:
    async def test_animated_gif_header(self, animated_gif: Path) -> None:
        facts = await inspect_image(animated_gif)

        assert facts == ImageProbe(format="GIF", width=121, height=91, frame_count=10)
        assert facts.is_animated

    async def test_garbage_is_invalid_media(self, tmp_path: Path) -> None:
        path = tmp_path / "x.png"
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)

        with pytest.raises(InvalidMedia):
            await inspect_image(path)

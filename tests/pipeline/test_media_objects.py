from __future__ import annotations

from typing import Any

import pytest

from app.http.v2.presenters import media_object_v2
from app.http.v11.presenters import media_object_v11
from app.media.views import MediaView, VariantView
from app.models import VariantKind
from app.uploads.protocol import MediaKind, UploadState

BASE = "https://media.example"
TOKEN = "tok_en-123456789"


def view(kind: MediaKind, key: str, width: int, height: int, **extra: Any) -> MediaView:
    return MediaView(
        media_id=42,
        media_key=key,
        state=UploadState.SUCCEEDED,
        kind=kind,
        category=None,
        is_async=False,
        media_type="x",
        detected_type="x",
        total_bytes=1,
        size=1,
        sha256=None,
        width=width,
        height=height,
        expires_after_secs=100,
        progress_percent=100,
        error=None,
        **{"delivery_token": TOKEN, **extra},
    )


def variant(
    kind: VariantKind,
    name: str,
    path: str,
    content_type: str,
    size: tuple[int, int] | None = None,
    bitrate: int | None = None,
) -> VariantView:
    w, h = size or (None, None)
    return VariantView(kind, name, path, content_type, w, h, bitrate, 1000)


PHOTO = view(MediaKind.IMAGE, "3_42", 1600, 2400)
PHOTO_VARIANTS = [
    variant(VariantKind.PHOTO, "thumb", "thumb.jpg", "image/jpeg", (150, 150)),
    variant(VariantKind.PHOTO, "small", "small.jpg", "image/jpeg", (453, 680)),
    variant(VariantKind.PHOTO, "medium", "medium.jpg", "image/jpeg", (800, 1200)),
    variant(VariantKind.PHOTO, "large", "large.jpg", "image/jpeg", (1365, 2048)),
    variant(VariantKind.PHOTO, "orig", "orig.jpg", "image/jpeg", (1600, 2400)),
]
VIDEO = view(MediaKind.VIDEO, "7_42", 1280, 720, duration_ms=3000)
VIDEO_VARIANTS = [
    variant(VariantKind.MP4, "640x360", "vid/640x360.mp4", "video/mp4", (640, 360), 832_000),
    variant(VariantKind.MP4, "320x180", "vid/320x180.mp4", "video/mp4", (320, 180), 320_000),
    variant(VariantKind.HLS, "master", "pl/master.m3u8", "application/x-mpegURL"),
    variant(VariantKind.PREVIEW, "preview", "preview.jpg", "image/jpeg", (640, 360)),
]
GIF = view(MediaKind.GIF, "16_42", 121, 91)
GIF_VARIANTS = [
    variant(VariantKind.MP4, "120x90", "tweet_video.mp4", "video/mp4", (120, 90), 0),
    variant(VariantKind.PREVIEW, "preview", "preview.jpg", "image/jpeg", (120, 90)),
]
VIDEO_BASE = f"{BASE}/video/7_42/{TOKEN}"
GIF_BASE = f"{BASE}/video/16_42/{TOKEN}"


def dump(model: Any) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_none=True)  # type: ignore[no-any-return]


class TestV11:
    def test_photo(self) -> None:
        built = dump(media_object_v11(PHOTO, PHOTO_VARIANTS, base_url=BASE))

        assert built == {
            "id": 42,
            "id_str": "42",
            "media_key": "3_42",
            "media_url": f"{BASE}/media/{TOKEN}.jpg",
            "media_url_https": f"{BASE}/media/{TOKEN}.jpg",
            "type": "photo",
            "sizes": {
                "thumb": {"w": 150, "h": 150, "resize": "crop"},
                "small": {"w": 453, "h": 680, "resize": "fit"},
                "medium": {"w": 800, "h": 1200, "resize": "fit"},
                "large": {"w": 1365, "h": 2048, "resize": "fit"},
            },
            "ext_media_availability": {"status": "Available"},
        }

    def test_video_lists_mp4s_by_bitrate_then_hls_without_bitrate(self) -> None:
        built = dump(media_object_v11(VIDEO, VIDEO_VARIANTS, base_url=BASE))

        assert built["type"] == "video"
        assert built["media_url_https"] == f"{VIDEO_BASE}/preview.jpg"
        assert built["sizes"]["small"] == {"w": 640, "h": 360, "resize": "fit"}
        assert built["video_info"] == {
            "aspect_ratio": [16, 9],
            "duration_millis": 3000,
            "variants": [
                {
                    "bitrate": 320_000,
                    "content_type": "video/mp4",
                    "url": f"{VIDEO_BASE}/320x180.mp4",
                },
                {
                    "bitrate": 832_000,
                    "content_type": "video/mp4",
                    "url": f"{VIDEO_BASE}/640x360.mp4",
                },
                {"content_type": "application/x-mpegURL", "url": f"{VIDEO_BASE}/pl/master.m3u8"},
            ],
        }

    def test_gif_has_one_mp4_with_bitrate_0_and_no_duration(self) -> None:
        built = dump(media_object_v11(GIF, GIF_VARIANTS, base_url=BASE))

        assert built["type"] == "animated_gif"
        assert built["video_info"] == {
            "aspect_ratio": [4, 3],
            "variants": [
                {"bitrate": 0, "content_type": "video/mp4", "url": f"{GIF_BASE}/120x90.mp4"}
            ],
        }


class TestV2:
    def test_photo(self) -> None:
        built = dump(media_object_v2(PHOTO, PHOTO_VARIANTS, base_url=BASE))

        assert built == {
            "media_key": "3_42",
            "type": "photo",
            "url": f"{BASE}/media/{TOKEN}.jpg",
            "width": 1600,
            "height": 2400,
        }

    def test_video(self) -> None:
        built = dump(media_object_v2(VIDEO, VIDEO_VARIANTS, base_url=BASE))

        assert built == {
            "media_key": "7_42",
            "type": "video",
            "preview_image_url": f"{VIDEO_BASE}/preview.jpg",
            "width": 1280,
            "height": 720,
            "duration_ms": 3000,
            "variants": [
                {
                    "bit_rate": 320_000,
                    "content_type": "video/mp4",
                    "url": f"{VIDEO_BASE}/320x180.mp4",
                },
                {
                    "bit_rate": 832_000,
                    "content_type": "video/mp4",
                    "url": f"{VIDEO_BASE}/640x360.mp4",
                },
                {"content_type": "application/x-mpegURL", "url": f"{VIDEO_BASE}/pl/master.m3u8"},
            ],
        }

    def test_gif(self) -> None:
        built = dump(media_object_v2(GIF, GIF_VARIANTS, base_url=BASE))

        assert built == {
            "media_key": "16_42",
            "type": "animated_gif",
            "preview_image_url": f"{GIF_BASE}/preview.jpg",
            "width": 121,
            "height": 91,
            "variants": [
                {"bit_rate": 0, "content_type": "video/mp4", "url": f"{GIF_BASE}/120x90.mp4"}
            ],
        }

    def test_media_without_a_delivery_token_cannot_be_built(self) -> None:
        undelivered = view(MediaKind.IMAGE, "3_1", 1, 1, delivery_token=None)

        with pytest.raises(ValueError, match="no deliverable variants"):
            media_object_v2(undelivered, [], base_url=BASE)

"""What the v1.1 and v2 media objects share: type names, delivery URLs, the streams of a
video or GIF and its aspect ratio. Pure functions of a media's view, its variants and
the public base URL (no trailing slash) of delivery; ``app.http.v11.presenters`` and
``app.http.v2.presenters`` build their wire shapes from them."""

from __future__ import annotations

from collections.abc import Sequence

from app.media.views import MediaView, VariantKind, VariantView
from app.processing.video import aspect_ratio
from app.schemas.media_objects import MediaTypeName
from app.uploads.protocol import MediaKind

__all__ = [
    "HLS_TYPE",
    "aspect",
    "find_variant",
    "main_url",
    "photo_url",
    "stream_variants",
    "type_name",
    "video_url",
]

_TYPE_NAMES: dict[MediaKind, MediaTypeName] = {
    MediaKind.IMAGE: "photo",
    MediaKind.VIDEO: "video",
    MediaKind.GIF: "animated_gif",
}
HLS_TYPE = "application/x-mpegURL"


def photo_url(base_url: str, token: str, fmt: str) -> str:
    """The bare photo URL; it serves ``medium``, ``?name=`` picks another size."""
    return f"{base_url}/media/{token}.{fmt}"


def video_url(base_url: str, media: MediaView, path: str) -> str:
    return f"{base_url}/video/{media.media_key}/{media.delivery_token}/{path}"


def type_name(media: MediaView) -> MediaTypeName:
    if media.kind not in _TYPE_NAMES or (media.delivery_token is None and not media.removed):
        raise ValueError(f"media {media.media_id} has no deliverable variants")
    return _TYPE_NAMES[media.kind]


def find_variant(variants: Sequence[VariantView], kind: VariantKind, name: str) -> VariantView:
    for variant in variants:
        if variant.kind is kind and variant.name == name:
            return variant
    raise ValueError(f"no {kind.value} variant named {name}")


def main_url(media: MediaView, variants: Sequence[VariantView], base_url: str) -> str:
    """The photo's bare URL, or the video's or GIF's preview image."""
    assert media.delivery_token is not None
    if media.kind is MediaKind.IMAGE:
        medium = find_variant(variants, VariantKind.PHOTO, "medium")
        return photo_url(base_url, media.delivery_token, medium.path.rsplit(".", 1)[-1])
    preview = find_variant(variants, VariantKind.PREVIEW, "preview")
    return video_url(base_url, media, preview.path)


def stream_variants(
    media: MediaView, variants: Sequence[VariantView], base_url: str
) -> list[tuple[int | None, str, str]]:
    """(bitrate, content type, url): mp4s by rising bitrate, then the HLS playlist."""
    mp4s = sorted((v for v in variants if v.kind is VariantKind.MP4), key=lambda v: v.bitrate or 0)
    rows: list[tuple[int | None, str, str]] = []
    for v in mp4s:
        bitrate = 0 if media.kind is MediaKind.GIF else (v.bitrate or 0)
        rows.append((bitrate, v.content_type, video_url(base_url, media, f"{v.name}.mp4")))
    for v in variants:
        if v.kind is VariantKind.HLS:
            rows.append((None, HLS_TYPE, video_url(base_url, media, v.path)))
    return rows


def aspect(media: MediaView, variants: Sequence[VariantView]) -> list[int]:
    source = next((v for v in variants if v.kind is VariantKind.MP4), None)
    if media.kind is MediaKind.VIDEO and media.width and media.height:
        width, height = media.width, media.height
    elif source is not None and source.width and source.height:
        width, height = source.width, source.height
    else:
        raise ValueError(f"media {media.media_id} has no size")
    return list(aspect_ratio(width, height))

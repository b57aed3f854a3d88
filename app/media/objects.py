"""Build the v1.1 and v2 media objects of a processed media: pure functions of its
view, its variants and the public base URL (no trailing slash) of delivery."""

from __future__ import annotations

from collections.abc import Sequence

from app.media.views import MediaView, VariantView
from app.models import VariantKind
from app.processing.variants import PHOTO_SIZES, fit_within
from app.processing.video import aspect_ratio
from app.schemas.media_objects import (
    MediaEntityV11,
    MediaSizesV11,
    MediaSizeV11,
    MediaTypeName,
    MediaV2,
    VideoInfoEntityV11,
    VideoVariantV2,
    VideoVariantV11,
)
from app.uploads.protocol import MediaKind

__all__ = ["media_object_v2", "media_object_v11", "photo_url", "video_url"]

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


def _type_name(media: MediaView) -> MediaTypeName:
    if media.kind not in _TYPE_NAMES or media.delivery_token is None:
        raise ValueError(f"media {media.media_id} has no deliverable variants")
    return _TYPE_NAMES[media.kind]


def _find(variants: Sequence[VariantView], kind: VariantKind, name: str) -> VariantView:
    for variant in variants:
        if variant.kind is kind and variant.name == name:
            return variant
    raise ValueError(f"no {kind.value} variant named {name}")


def _main_url(media: MediaView, variants: Sequence[VariantView], base_url: str) -> str:
    """The photo's bare URL, or the video's or GIF's preview image."""
    assert media.delivery_token is not None
    if media.kind is MediaKind.IMAGE:
        medium = _find(variants, VariantKind.PHOTO, "medium")
        return photo_url(base_url, media.delivery_token, medium.path.rsplit(".", 1)[-1])
    return video_url(base_url, media, _find(variants, VariantKind.PREVIEW, "preview").path)


def _sizes(media: MediaView, variants: Sequence[VariantView]) -> MediaSizesV11:
    if media.kind is MediaKind.IMAGE:
        photos = {v.name: v for v in variants if v.kind is VariantKind.PHOTO}
        boxes = {size.name: size for size in PHOTO_SIZES}
        sizes = {
            name: MediaSizeV11(
                w=photos[name].width or 0, h=photos[name].height or 0, resize=boxes[name].resize
            )
            for name in ("thumb", "small", "medium", "large")
        }
    else:  # the preview image's sizes, as Twitter describes video thumbnails
        preview = _find(variants, VariantKind.PREVIEW, "preview")
        width, height = preview.width or 1, preview.height or 1
        sizes = {}
        for size in PHOTO_SIZES:
            if size.name == "orig" or size.width is None or size.height is None:
                continue
            if size.resize == "crop":
                w, h = size.width, size.height
            else:
                w, h = fit_within(width, height, size.width, size.height)
            sizes[size.name] = MediaSizeV11(w=w, h=h, resize=size.resize)
    return MediaSizesV11(**sizes)


def _stream_variants(
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


def _aspect(media: MediaView, variants: Sequence[VariantView]) -> list[int]:
    source = next((v for v in variants if v.kind is VariantKind.MP4), None)
    if media.kind is MediaKind.VIDEO and media.width and media.height:
        width, height = media.width, media.height
    elif source is not None and source.width and source.height:
        width, height = source.width, source.height
    else:
        raise ValueError(f"media {media.media_id} has no size")
    return list(aspect_ratio(width, height))


def media_object_v11(
    media: MediaView, variants: Sequence[VariantView], *, base_url: str
) -> MediaEntityV11:
    """The ``extended_entities.media[]`` object of a succeeded photo, video or GIF."""
    type_name = _type_name(media)
    url = _main_url(media, variants, base_url)
    video_info = None
    if media.kind is not MediaKind.IMAGE:
        video_info = VideoInfoEntityV11(
            aspect_ratio=_aspect(media, variants),
            duration_millis=media.duration_ms if media.kind is MediaKind.VIDEO else None,
            variants=[
                VideoVariantV11(bitrate=bitrate, content_type=content_type, url=u)
                for bitrate, content_type, u in _stream_variants(media, variants, base_url)
            ],
        )
    return MediaEntityV11(
        id=media.media_id,
        id_str=str(media.media_id),
        media_key=media.media_key,
        media_url=url,
        media_url_https=url,
        type=type_name,
        sizes=_sizes(media, variants),
        video_info=video_info,
    )


def media_object_v2(media: MediaView, variants: Sequence[VariantView], *, base_url: str) -> MediaV2:
    """The v2 ``includes.media[]`` object, with every field of ``media.fields`` we know."""
    type_name = _type_name(media)
    url = _main_url(media, variants, base_url)
    if media.kind is MediaKind.IMAGE:
        return MediaV2(
            media_key=media.media_key,
            type=type_name,
            url=url,
            width=media.width,
            height=media.height,
        )
    return MediaV2(
        media_key=media.media_key,
        type=type_name,
        preview_image_url=url,
        width=media.width,
        height=media.height,
        duration_ms=media.duration_ms if media.kind is MediaKind.VIDEO else None,
        variants=[
            VideoVariantV2(bit_rate=bitrate, content_type=content_type, url=u)
            for bitrate, content_type, u in _stream_variants(media, variants, base_url)
        ],
    )

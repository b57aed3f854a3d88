"""The upload media object (INIT/FINALIZE/STATUS answers) in its v1.1 form; the v2
surface wraps the same object (``V2MediaData.from_v11``), so both answer alike."""

from __future__ import annotations

from typing import Any, cast

from app.media.views import MediaView
from app.schemas.v11 import (
    ImageInfoV11,
    MediaResponseV11,
    ProcessingError,
    ProcessingInfo,
    ProcessingState,
    SegmentInfo,
    UploadInfo,
    VideoInfoV11,
    check_after,
)
from app.uploads.protocol import MediaKind, UploadState

__all__ = ["media_response"]


def media_response(view: MediaView, *, with_key: bool = True) -> MediaResponseV11:
    processing = None
    if view.is_async and view.state is not UploadState.UPLOADING:
        processing = ProcessingInfo(
            state=cast(ProcessingState, view.state.value),
            check_after_secs=check_after(view.state.value),
            progress_percent=view.progress_percent,
            error=ProcessingError(**vars_of(view.error)) if view.error else None,
        )
    upload_info = None
    if view.state is UploadState.UPLOADING:
        processing = ProcessingInfo(state="uploading", check_after_secs=check_after("uploading"))
        upload_info = UploadInfo(
            total_bytes=view.total_bytes,
            received_bytes=view.received_bytes,
            segments=[
                SegmentInfo(segment_index=s.index, size=s.size, sha256=s.sha256)
                for s in view.segments
            ],
        )
    image = video = None
    # Twitter names the file's type once it is usable: at once for sync media, and for
    # async media only when processing succeeded.
    if view.state is UploadState.SUCCEEDED and view.detected_type:
        if view.kind is MediaKind.VIDEO or (view.kind is MediaKind.GIF and view.is_async):
            video = VideoInfoV11(video_type=view.detected_type)
        elif view.kind in (MediaKind.IMAGE, MediaKind.GIF) and view.width and view.height:
            image = ImageInfoV11(image_type=view.detected_type, w=view.width, h=view.height)
    show_expiry = view.state is not UploadState.FAILED
    return MediaResponseV11(
        media_id=view.media_id,
        media_id_string=str(view.media_id),
        media_key=view.media_key if with_key else None,
        size=view.size,
        expires_after_secs=view.expires_after_secs if show_expiry else None,
        image=image,
        video=video,
        processing_info=processing,
        upload_info=upload_info,
    )


def vars_of(error: Any) -> dict[str, Any]:
    return {"code": error.code, "name": error.name, "message": error.message}

"""Expected failures, each carrying what the client is told.

::

    ApiError                      status, Twitter code, message; rendered per API surface
    ├── NotAuthenticated          401, code 32
    ├── ParameterMissing          400, code 38 "<name> parameter is missing."
    ├── InvalidParameter          400, code 44 "<name> parameter is invalid." (API host)
    ├── MediaNotFound             404, code 34 (STATUS of unknown media, or not processed)
    ├── RateLimited               429, code 88
    │   └── TooManyUploads        429, code 88: the user's uploads in flight at the cap
    ├── RequestTimeout            408, code 408: the request body stalled
    ├── OverCapacity              503, code 130: the process's upload bytes in flight full
    │   └── OutOfStorage          503, code 130 + Retry-After: the disk is full, retry later
    ├── BodyTooLarge              413, code 324: a request body over its route's cap
    ├── MalformedBody             400, code 44: not JSON, nested too deep, not an object
    └── UploadError               400, legacy ``{"request", "error"}`` upload form
        ├── BadParameter          a parameter has the wrong shape
        ├── MediaTypeUnrecognized  media type or category unknown or mismatched
        ├── InvalidMediaId        unknown, foreign or malformed media_id
        ├── UploadExpired         the upload or media outlived expires_after_secs
        ├── UploadNotOpen         APPEND after FINALIZE
        ├── SegmentIndexOutOfRange
        ├── SegmentTooLarge       a segment over the per-segment cap
        ├── TotalBytesExceeded    APPEND would cross total_bytes
        ├── ChecksumMismatch      X-Segment-SHA256 differs from the stored bytes
        ├── ContentMismatch       the bytes are not what media_type declares
        ├── SegmentsIncomplete    FINALIZE with gaps or a wrong sum
        ├── MediaProcessingFailed  synchronous processing refused the file
        └── FileTooLarge          code 324 form: the file exceeds the category's limit
    ├── PostRuleBroken            posting rules (codes 186, 187, 323, 324, 325, 386)
    │   ├── InvalidMediaIds       324: media pending, failed, expired or unusable here
    │   ├── MediaIdNotFound       325: no such media for this user
    │   ├── GifNotAlone           323
    │   ├── AttachmentTypesMixed  386
    │   ├── StatusTooLong         186
    │   └── DuplicateStatus       187
    ├── StatusNotFound            404, code 144
    ├── UserNotFound              404, code 50
    ├── ImageUnreadable           400, code 324: profile image/banner missing or undecodable
    ├── BannerNotResizable        422, code 324: banner too large or crop outside the image
    └── Forbidden                 403, code 200-ish: not yours to see or change

Nothing here knows HTTP or JSON; ``app/routers/errors.py`` renders them.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "ApiError",
    "AttachmentTypesMixed",
    "BadParameter",
    "BannerNotResizable",
    "BodyTooLarge",
    "ChecksumMismatch",
    "ContentMismatch",
    "DuplicateStatus",
    "FileTooLarge",
    "Forbidden",
    "GifNotAlone",
    "ImageUnreadable",
    "InvalidMediaId",
    "InvalidMediaIds",
    "InvalidParameter",
    "MalformedBody",
    "MediaIdNotFound",
    "MediaNotFound",
    "MediaProcessingFailed",
    "MediaTypeUnrecognized",
    "NotAuthenticated",
    "OutOfStorage",
    "OverCapacity",
    "ParameterMissing",
    "PostRuleBroken",
    "RateLimited",
    "RequestTimeout",
    "SegmentIndexOutOfRange",
    "SegmentTooLarge",
    "SegmentsIncomplete",
    "StatusNotFound",
    "StatusTooLong",
    "TooManyUploads",
    "TotalBytesExceeded",
    "UploadError",
    "UploadExpired",
    "UploadNotOpen",
    "UserNotFound",
]


class ApiError(Exception):
    """A failure we expect and report to the client; never logged as an error."""

    http_status: ClassVar[int] = 400
    twitter_code: ClassVar[int | None] = None
    message: ClassVar[str] = "Bad request."
    legacy_form: ClassVar[bool] = False

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = detail or self.message
        self.extra = extra
        super().__init__(self.detail)


class NotAuthenticated(ApiError):
    """Missing, malformed or unknown credentials."""

    http_status = 401
    twitter_code = 32
    message = "Could not authenticate you."


class ParameterMissing(ApiError):
    """A required parameter was not sent; the detail names it."""

    twitter_code = 38

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} parameter is missing.")


class InvalidParameter(ApiError):
    """A parameter outside the upload host is present but malformed: an id that is not a
    number in 0..2^63-1, a bad flag or list. The upload host says ``BadParameter``."""

    twitter_code = 44

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} parameter is invalid.")
        self.parameter = name


class MediaNotFound(ApiError):
    """The media does not exist for this caller, or needs no STATUS polling."""

    http_status = 404
    twitter_code = 34
    message = "Sorry, that page does not exist."


class RateLimited(ApiError):
    """The caller used up its window."""

    http_status = 429
    twitter_code = 88
    message = "Rate limit exceeded."


class BodyTooLarge(ApiError):
    """A request body over its route's cap, refused from ``Content-Length`` or as soon as
    the streamed bytes pass it. ``max_body_bytes`` tells the client the cap."""

    http_status = 413
    twitter_code = 324

    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body is over {limit} bytes.", max_body_bytes=limit)


class MalformedBody(ApiError):
    """A JSON body that is not JSON, is nested deeper than the limit, or has the wrong
    shape; the detail says which."""

    twitter_code = 44


class TooManyUploads(RateLimited):
    """The user already has as many uploads in flight as one process takes."""

    message = "Too many uploads in flight for this user."


class RequestTimeout(ApiError):
    """No chunk of the request body came within the body idle timeout. Twitter published
    no code for it: the status is the code, as for other HTTP-level errors."""

    http_status = 408
    twitter_code = 408
    message = "Request timeout: the request body stalled."


class OverCapacity(ApiError):
    """This process holds as many upload bytes in flight as it takes; retry shortly."""

    http_status = 503
    twitter_code = 130
    message = "Over capacity."


class UploadError(ApiError):
    """Upload validation failure, in the upload host's ``{"request","error"}`` form."""

    legacy_form = True


class BadParameter(UploadError):
    """A parameter is present but malformed (not a number, out of range, ...)."""


class MediaTypeUnrecognized(UploadError):
    """The media type is unknown, or does not suit the media category."""

    message = "media type unrecognized."


class InvalidMediaId(UploadError):
    """The media_id is unknown, malformed, or belongs to someone else."""

    def __init__(self, media_id: object = "") -> None:
        super().__init__(f"Invalid media_id: Some({media_id}).")


class UploadExpired(UploadError):
    """The upload or media is past its expires_after_secs."""

    def __init__(self, media_id: int) -> None:
        super().__init__(f"Invalid media_id: Some({media_id}). The media has expired.")


class UploadNotOpen(UploadError):
    """APPEND to an upload that was already finalized."""

    message = "Upload already finalized; APPEND is not allowed."


class SegmentIndexOutOfRange(UploadError):
    """segment_index outside 0..999."""

    message = "Segment index must be between 0 and 999 inclusive."


class SegmentTooLarge(UploadError):
    """A segment larger than the per-segment cap (5 MiB decoded)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"Segment size must be <= {limit} bytes.", max_segment_bytes=limit)


class TotalBytesExceeded(UploadError):
    """The stored segments would add up to more than total_bytes."""

    def __init__(self, total_bytes: int, received: int) -> None:
        super().__init__(
            "Segments exceed provided total file size.",
            total_bytes=total_bytes,
            received_bytes=received,
        )


class ChecksumMismatch(UploadError):
    """The segment's SHA-256 differs from the X-Segment-SHA256 the client sent."""

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(
            "Segment checksum mismatch.", expected_sha256=expected, actual_sha256=actual
        )


class ContentMismatch(UploadError):
    """The bytes cannot be the declared media type; the detail names what they are."""


class SegmentsIncomplete(UploadError):
    """FINALIZE found gaps or a sum different from total_bytes."""

    message = "Segments do not add up to provided total file size."


class MediaProcessingFailed(UploadError):
    """FINALIZE processed the media before answering (no ``media_category``) and the file
    broke a rule or could not be decoded; the detail is the processing error's message."""

    def __init__(self, message: str, *, code: int, name: str) -> None:
        error = {"code": code, "name": name, "message": message}
        super().__init__(message, processing_error=error)


class FileTooLarge(ApiError):
    """The file exceeds its category's limit (code 324, as Twitter words it)."""

    twitter_code = 324

    def __init__(self, kind: str, limit: int) -> None:
        super().__init__(f"{kind} file size must be <= {limit} bytes", max_bytes=limit)


class PostRuleBroken(ApiError):
    """A post or message breaks Twitter's attachment or text rules."""

    parameter: ClassVar[str | None] = None


class InvalidMediaIds(PostRuleBroken):
    """Media that exists for the caller but cannot be attached (pending, failed, expired,
    wrong category, too many)."""

    twitter_code = 324
    message = "The validation of media ids failed."
    parameter = "media.media_ids"


class MediaIdNotFound(PostRuleBroken):
    """A media id the caller may not use: unknown, or someone else's."""

    twitter_code = 325
    message = "A media id was not found."
    parameter = "media.media_ids"


class GifNotAlone(PostRuleBroken):
    """An animated GIF together with other media."""

    twitter_code = 323
    message = "Animated GIFs are not allowed when uploading multiple images."
    parameter = "media.media_ids"


class AttachmentTypesMixed(PostRuleBroken):
    """A video with other media, or media of different kinds."""

    http_status = 403
    twitter_code = 386
    message = "The Post exceeds the number of allowed attachment types."
    parameter = "media.media_ids"


class StatusTooLong(PostRuleBroken):
    """More than 280 weighted characters."""

    http_status = 403
    twitter_code = 186
    message = "Post needs to be a bit shorter."
    parameter = "text"


class DuplicateStatus(PostRuleBroken):
    """The same text from the same user, recently."""

    http_status = 403
    twitter_code = 187
    message = "Status is a duplicate."
    parameter = "text"


class StatusNotFound(ApiError):
    """No post with that id (or deleted)."""

    http_status = 404
    twitter_code = 144
    message = "No status found with that ID."


class ImageUnreadable(ApiError):
    """account/update_profile_image or update_profile_banner without usable bytes: not
    base64, not a GIF/JPEG/PNG, or undecodable (spec §5.3: 400). Twitter documents no
    code for it; 324 is the code of its other media validation failures."""

    twitter_code = 324
    message = "The image could not be read: send a GIF, JPG or PNG."


class BannerNotResizable(ApiError):
    """account/update_profile_banner: the banner is too large (bytes or pixels) or the
    crop region does not lie within it (spec §5.3: 422)."""

    http_status = 422
    twitter_code = 324
    message = "The banner could not be resized."


class Forbidden(ApiError):
    """The caller is authenticated but may not do this."""

    http_status = 403
    twitter_code = 200
    message = "Forbidden."


class UserNotFound(ApiError):
    """No account with that id or screen name."""

    http_status = 404
    twitter_code = 50
    message = "User not found."


# --- Full disk ---------------------------------------------------------------------------


class OutOfStorage(OverCapacity):
    """A write found the storage full (``app.storage.StorageFull``). Nothing of the
    request was kept, so the same request succeeds once space is freed: 503 with
    ``Retry-After`` (``retry_after`` seconds), code 130, Twitter's "Over capacity"."""

    http_status = 503
    twitter_code = 130
    message = "Over capacity: the media storage is full. Retry later."

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = retry_after

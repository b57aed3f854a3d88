"""Processing failures, shaped like Twitter's ``processing_info.error`` (spec §5.4).

::

    ProcessingError            {code, name, message}; never raised directly
    ├── InvalidMedia           code 1: the file cannot be decoded (corrupt, truncated)
    ├── UnsupportedMedia       code 3: decodable, but breaks a rule (duration, size, fps...)
    └── InternalError          code 131: our fault (ffmpeg missing, disk full); retryable

Twitter documents no code for ``InternalError`` (spec §5.4 lists the name only), so we
reuse 131, the v1.1 "Internal error." code (spec §5.2). Workers store ``code``, ``name``
and ``message`` verbatim as the media's ``processing_info.error``.
"""

from typing import ClassVar

__all__ = ["InternalError", "InvalidMedia", "ProcessingError", "UnsupportedMedia"]


class ProcessingError(Exception):
    """A processing failure reported to the client as ``processing_info.error``."""

    code: ClassVar[int] = 131
    name: ClassVar[str] = "InternalError"
    default_message: ClassVar[str] = "Internal error."
    # Whether retrying the same bytes could succeed: the job runner fails a job at once
    # when its handler raises an exception whose ``permanent`` is true.
    permanent: ClassVar[bool] = False

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)

    def as_dict(self) -> dict[str, int | str]:
        """The ``{code, name, message}`` object of spec §5.4."""
        return {"code": self.code, "name": self.name, "message": self.message}


class InvalidMedia(ProcessingError):
    """Raised when the file cannot be decoded: corrupt, truncated or not media at all.

    Permanent: retrying the same bytes fails the same way.
    """

    code = 1
    name = "InvalidMedia"
    default_message = "file is invalid"
    permanent = True


class UnsupportedMedia(ProcessingError):
    """Raised when the file decodes but breaks a rule of its media category.

    The message names the rule and both values, in Twitter's style:
    ``"Duration too long, maximum:140000, actual:150000"``. Permanent.
    """

    code = 3
    name = "UnsupportedMedia"
    default_message = "file is currently unsupported"
    permanent = True


class InternalError(ProcessingError):
    """Raised when processing fails for a reason unrelated to the file (missing ffmpeg,
    disk full, an encoder bug). The job may be retried."""

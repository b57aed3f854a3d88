"""Whose fault a failed decode is: the input's (permanent, ``InvalidMedia``) or ours
(transient, ``InternalError``, worth a retry). Pure: it reads what ffmpeg printed, its
exit status, or the exception Pillow/MediaInfo raised; it runs nothing.

The rule, in order:

1. The environment failed (ffmpeg killed by a signal, an ``OSError`` carrying an errno
   such as ENOSPC, EACCES, EIO, ENOENT, ENOMEM; ffmpeg saying "No space left on
   device"...): transient, whatever else was printed. Retrying on a healthy worker or
   disk can succeed.
2. A step that decodes the upload printed an input-fault marker ("partial file",
   "Invalid data found when processing input", "moov atom not found", "LZW decode
   failed"...): the file is broken, even when ffmpeg exited 0 (it does for a truncated
   mp4: it encodes what it could read and only logs the rest).
3. A step that decodes the upload exited non-zero otherwise: the input's fault too
   (ffmpeg could not make a picture of it).
4. A step that reads only our own outputs (the HLS remux, the preview grab) failed:
   ours, transient.

Pillow and MediaInfo raise exceptions, not logs: ``OSError`` with an errno is the
environment's; every other decoding exception (``UnidentifiedImageError``, ``OSError``
without errno such as "image file is truncated", ``SyntaxError``, ``ValueError``,
``EOFError``) is the input's.
"""

from __future__ import annotations

import errno

from app.processing.errors import InternalError, InvalidMedia, ProcessingError

__all__ = [
    "ENVIRONMENT_MARKERS",
    "INPUT_MARKERS",
    "INVALID_FILE",
    "INVALID_VIDEO",
    "decode_exception",
    "ffmpeg_failure",
]

# Lower-cased substrings of ffmpeg's error log blaming the file.
INPUT_MARKERS: tuple[str, ...] = (
    "partial file",
    "invalid data found when processing input",
    "moov atom not found",
    "error splitting the input into nal units",
    "invalid nal unit size",
    "decoding error",
    "decode failed",
    "error while decoding",
    "corrupt",
    "truncat",
    "missing picture in access unit",
    "could not find codec parameters",
    "unexpected end of file",
    "end of file reached",
)

# Lower-cased substrings blaming the machine (errno texts as strerror words them).
ENVIRONMENT_MARKERS: tuple[str, ...] = tuple(
    text.lower()
    for text in (
        "No space left on device",
        "Disk quota exceeded",
        "Permission denied",
        "Operation not permitted",
        "Read-only file system",
        "Input/output error",
        "Cannot allocate memory",
        "Too many open files",
        "Resource temporarily unavailable",
        "No such file or directory",
        "Stale file handle",
        "Broken pipe",
        "Connection reset by peer",
    )
)

_ENVIRONMENT_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EACCES,
        errno.EPERM,
        errno.EROFS,
        errno.EIO,
        errno.ENOMEM,
        errno.EMFILE,
        errno.ENFILE,
        errno.EAGAIN,
        errno.ENOENT,
        errno.ESTALE,
        errno.EPIPE,
        errno.ETIMEDOUT,
    }
)

INVALID_VIDEO = "Unsupported video format"  # spec §5.4, code 1's documented message
INVALID_FILE = "file is invalid"  # spec §5.4, code 1's observed message


def _environment_said(log: str) -> bool:
    return any(marker in log for marker in ENVIRONMENT_MARKERS)


def _input_said(log: str) -> bool:
    return any(marker in log for marker in INPUT_MARKERS)


def ffmpeg_failure(
    returncode: int, stderr: str, *, reads_input: bool, message: str = INVALID_VIDEO
) -> ProcessingError | None:
    """The processing error an ffmpeg run amounts to, or None when it went cleanly.

    ``reads_input``: this run decodes the upload (not only files we made). ``stderr`` is
    what ffmpeg logged at ``-loglevel error``. ``message`` is the ``InvalidMedia``
    message when the input is to blame.
    """
    log = stderr.lower()
    if returncode < 0 or returncode in (137, 139, 143):  # killed: SIGKILL, SIGSEGV, SIGTERM
        return InternalError(f"ffmpeg was killed (exit {returncode})")
    if _environment_said(log):
        return InternalError("ffmpeg failed for a reason outside the file")
    if reads_input and (_input_said(log) or returncode != 0):
        return InvalidMedia(message)
    if returncode != 0:
        return InternalError()
    return None


def decode_exception(exc: BaseException, *, message: str = INVALID_FILE) -> ProcessingError:
    """The processing error a Pillow or MediaInfo exception amounts to."""
    if isinstance(exc, ProcessingError):
        return exc
    if isinstance(exc, MemoryError):
        return InternalError("out of memory while decoding")
    if isinstance(exc, OSError) and exc.errno in _ENVIRONMENT_ERRNOS:
        return InternalError(f"cannot read the file: {exc.strerror or exc}")
    return InvalidMedia(message)

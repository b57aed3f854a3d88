"""Run the bundled ffmpeg (``imageio_ffmpeg``) as an asyncio subprocess.

ffmpeg never runs on the event loop's thread and is killed if the awaiting task is
cancelled or a progress callback raises, so no orphan encoder outlives its job.
Progress comes from ``-progress pipe:1`` (``out_time_us=`` lines on stdout); stderr is
drained concurrently (``-loglevel error``) and its tail kept for the failure message.
"""

import asyncio
import collections
import functools
from collections.abc import Awaitable, Callable, Sequence

import imageio_ffmpeg

from app.processing.errors import InternalError

__all__ = ["FFmpegFailed", "ffmpeg_exe", "run_ffmpeg"]

TimeCallback = Callable[[int], Awaitable[None]]
_STDERR_TAIL_LINES = 20


class FFmpegFailed(Exception):
    """ffmpeg exited non-zero. ``stderr`` holds the last lines it logged. Callers map it
    with ``app.processing.failures.ffmpeg_failure``."""

    def __init__(self, returncode: int, stderr: str) -> None:
        self.returncode = returncode
        self.stderr = stderr
        super().__init__(f"ffmpeg exited with {returncode}: {stderr}")


@functools.cache
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary shipped with imageio-ffmpeg."""
    try:
        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError as exc:
        raise InternalError(f"ffmpeg not available: {exc}") from exc


async def run_ffmpeg(args: Sequence[str], *, on_time: TimeCallback | None = None) -> str:
    """Run ``ffmpeg <global options> *args``; await ``on_time(ms)`` with the output
    time as encoding advances. Returns the tail of what ffmpeg logged (errors only: a
    clean run logs nothing; a truncated input is logged yet exits 0). Raises
    ``FFmpegFailed`` on a non-zero exit and ``InternalError`` when ffmpeg cannot be
    started."""
    command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error"]
    command += ["-progress", "pipe:1", "-y", *args]
    try:
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        raise InternalError(f"cannot start ffmpeg: {exc}") from exc
    assert process.stdout is not None
    assert process.stderr is not None
    stderr_task = asyncio.create_task(_tail(process.stderr))
    try:
        await _follow_progress(process.stdout, on_time)
        returncode = await process.wait()
        stderr = await stderr_task
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        stderr_task.cancel()
    if returncode != 0:
        raise FFmpegFailed(returncode, stderr)
    return stderr


async def _follow_progress(stream: asyncio.StreamReader, on_time: TimeCallback | None) -> None:
    async for raw in stream:
        key, _, value = raw.decode("ascii", "replace").strip().partition("=")
        if key != "out_time_us" or on_time is None:
            continue
        try:
            microseconds = int(value)
        except ValueError:  # "N/A" before the first frame
            continue
        if microseconds >= 0:
            await on_time(microseconds // 1000)


async def _tail(stream: asyncio.StreamReader) -> str:
    lines: collections.deque[str] = collections.deque(maxlen=_STDERR_TAIL_LINES)
    async for raw in stream:
        lines.append(raw.decode("utf-8", "replace").rstrip())
    return "\n".join(lines)

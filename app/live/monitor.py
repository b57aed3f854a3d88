"""The live monitor, beside the ingest server: the broadcast timers (never published:
TIMED_OUT; encoder gone past the reconnect window: ENDED), ingests nginx no longer
carries, the measured stream attributes and their ``compatibility_info``, and the ffmpeg
pulls of ``hls`` sources. Every change is a conditional update, so two monitors (or a
monitor and a request) never apply one twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from imageio_ffmpeg import get_ffmpeg_exe
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import LiveSettings
from app.core.clock import utcnow
from app.live import compat, hooks, nginx
from app.live.rules import ACTIVE, BroadcastState, SourceType, ingest_lost, timed_out
from app.models import LiveBroadcast, LiveIngest, LiveSource
from app.storage.live import LiveFiles

__all__ = ["LiveMonitor", "keyframe_interval"]

log = logging.getLogger(__name__)
_PTS = re.compile(r"pts_time:\s*([0-9.]+)")
_CODECS = {"H264": compat.VIDEO_CODEC, "AAC": compat.AUDIO_CODEC}
# An ingest nginx no longer lists is closed after this long (its publish_done was lost).
_GONE_SECS = 5.0
# nginx reports a recording right after publish_done; none after this long: it made none.
_RECORD_GRACE_SECS = 30.0
_PULL_RETRY_SECS = 5.0


async def keyframe_interval(segments: list[str]) -> float | None:
    """The median gap between keyframes over these HLS segments (ffmpeg decodes only the
    keyframes); None when fewer than two are found."""
    if not segments:
        return None
    command = [
        get_ffmpeg_exe(), "-hide_banner", "-nostats", "-skip_frame", "nokey",
        "-i", "concat:" + "|".join(segments), "-map", "0:v:0", "-vf", "showinfo",
        "-f", "null", "-",
    ]  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    _, err = await process.communicate()
    times = sorted({float(m) for m in _PTS.findall(err.decode(errors="replace"))})
    gaps = [b - a for a, b in itertools.pairwise(times) if b > a]
    return round(statistics.median(gaps), 2) if gaps else None


_KIB = re.compile(r"video:\s*([0-9.]+)KiB\s+audio:\s*([0-9.]+)KiB")
_TIME_FIELD = re.compile(r"time=(\S+)")
_TIME = re.compile(r"^([0-9]+):([0-9]{2}):([0-9.]+)$")


def _durations(playlist: bytes) -> dict[str, float]:
    """Each listed segment's EXTINF duration."""
    found: dict[str, float] = {}
    duration: float | None = None
    for line in playlist.decode(errors="replace").splitlines():
        if line.startswith("#EXTINF:"):
            with contextlib.suppress(ValueError):
                duration = float(line[8:].split(",")[0])
        elif line and not line.startswith("#") and duration is not None:
            found[line] = duration
            duration = None
    return found


async def payload_bitrates(segments: list[str], seconds: float) -> tuple[int, int] | None:
    """Video and audio bits per second of these segments' elementary streams (ffmpeg
    copies them to nowhere and counts the bytes): what the encoder was set to, without
    container framing or the jitter of a short window."""
    if not segments or seconds <= 0:
        return None
    process = await asyncio.create_subprocess_exec(
        get_ffmpeg_exe(), "-hide_banner", "-nostats", "-i", "concat:" + "|".join(segments),
        "-map", "0", "-c", "copy", "-f", "null", "-",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    _, err = await process.communicate()
    text = err.decode(errors="replace")
    found = _KIB.search(text)
    if found is None:
        return None
    # Over what ffmpeg read, not what the playlist listed: a segment nginx removed between
    # the listing and the read would count its seconds without its bytes.
    read = [_TIME.match(t) for t in _TIME_FIELD.findall(text)]
    if read and read[-1] is not None:
        hours, minutes, secs = read[-1].groups()
        seconds = int(hours) * 3600 + int(minutes) * 60 + float(secs) or seconds
    video, audio = (float(value) * 1024 * 8 / seconds for value in found.groups())
    return int(video), int(audio)


@dataclass
class _Pull:
    process: asyncio.subprocess.Process
    url: str  # what it reads: the HLS URL, or the SRT listener's key and port
    started: float


@dataclass
class LiveMonitor:
    sessions: async_sessionmaker[AsyncSession]
    settings: LiveSettings
    files: LiveFiles
    pulls: dict[str, _Pull] = field(default_factory=dict)
    listeners: dict[str, _Pull] = field(default_factory=dict)
    _failed_pulls: dict[str, float] = field(default_factory=dict)
    _missing_since: dict[str, float] = field(default_factory=dict)

    async def run_forever(self, halt: asyncio.Event | None = None) -> None:
        """Tick until ``halt`` is set; a tick in progress finishes first (stopping never
        cuts a database call short)."""
        halt = halt or asyncio.Event()
        async with httpx.AsyncClient(timeout=2.0) as client:
            try:
                while not halt.is_set():
                    try:
                        await self.tick(client, utcnow())
                    except asyncio.CancelledError:
                        raise
                    except Exception:
                        log.exception("live monitor tick failed")
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(halt.wait(), self.settings.monitor_interval_secs)
            finally:
                await self.stop_pulls()

    async def tick(self, client: httpx.AsyncClient, now: datetime) -> None:
        await self.expire(now)
        stats = await nginx.read_stats(self.settings, client)
        if stats is not None:
            await self.reconcile(stats, now)
            await self.probe(stats, now)
        await self.settle_recordings(now)
        await self.pull(now)
        await self.listen_srt()

    # --- timers ---------------------------------------------------------------------

    async def expire(self, now: datetime) -> None:
        window = self.settings.reconnect_window_secs
        timeout = self.settings.publish_timeout_secs
        async with self.sessions() as session:
            rows = list(
                await session.scalars(
                    select(LiveBroadcast).where(
                        (
                            (LiveBroadcast.state == BroadcastState.NOT_STARTED.value)
                            & (LiveBroadcast.created_at < now - timedelta(seconds=timeout))
                        )
                        | (
                            (LiveBroadcast.state == BroadcastState.RUNNING.value)
                            & (LiveBroadcast.ingest_lost_at < now - timedelta(seconds=window))
                        )
                    )
                )
            )
        for row in rows:
            age = (now - row.created_at).total_seconds()
            lost = (now - row.ingest_lost_at).total_seconds() if row.ingest_lost_at else 0.0
            target = timed_out(row.state, age=age, timeout=timeout) or ingest_lost(
                row.state, lost_for=lost, window=window
            )
            if target is None:
                continue
            async with self.sessions() as session:
                current = await session.get(LiveBroadcast, row.id)
                if current is None or current.state != row.state:
                    continue
                if target == BroadcastState.ENDED and await session.scalar(
                    select(LiveIngest.id).where(
                        LiveIngest.broadcast_id == row.id, LiveIngest.ended_at.is_(None)
                    )
                ):
                    continue  # reconnected meanwhile
                drop = await hooks.finish(session, current, target, now=now)
                if drop is None:
                    await session.rollback()
                    continue
                await session.flush()
                await hooks.maybe_queue(session, self.files, row.id, now=now)
                await session.commit()
            log.info("broadcast %s is %s", row.id, target.value)
            if drop:
                await nginx.drop_publisher(self.settings, drop)

    # --- what nginx carries ---------------------------------------------------------

    async def reconcile(self, stats: dict[str, nginx.StreamStat], now: datetime) -> None:
        """Close the ingests of streams nginx no longer carries (a lost publish_done:
        nginx restarted or its hook call failed)."""
        async with self.sessions() as session:
            rows = list(
                await session.execute(
                    select(LiveIngest, LiveSource.live_name)
                    .join(LiveSource, LiveSource.id == LiveIngest.source_id)
                    .where(LiveIngest.ended_at.is_(None))
                )
            )
            clock = time.monotonic()
            closed = []
            for ingest, name in rows:
                if name in stats:
                    self._missing_since.pop(name, None)
                    continue
                since = self._missing_since.setdefault(name, clock)
                if clock - since >= _GONE_SECS:
                    await hooks.close_ingest(session, ingest, now=now)
                    ingest.recorded = ingest.recorded or ingest.record_path is not None
                    closed.append(ingest.broadcast_id)
                    self._missing_since.pop(name, None)
            await session.flush()
            for broadcast_id in closed:
                await hooks.maybe_queue(session, self.files, broadcast_id, now=now)
            await session.commit()

    async def probe(self, stats: dict[str, nginx.StreamStat], now: datetime) -> None:
        due = now - timedelta(seconds=self.settings.probe_interval_secs)
        async with self.sessions() as session:
            sources = list(
                await session.scalars(
                    select(LiveSource).where(
                        LiveSource.is_stream_active.is_(True),
                        (LiveSource.probed_at.is_(None)) | (LiveSource.probed_at < due),
                    )
                )
            )
        for source in sources:
            stat = stats.get(source.live_name)
            if stat is None or stat.time_ms < 3000:
                continue  # give the stream a few seconds (and segments) first
            attributes = await self.measure(source.live_name, stat)
            if attributes is None:
                continue
            info = compat.check(attributes)
            async with self.sessions() as session:
                await session.execute(
                    update(LiveSource)
                    .where(LiveSource.id == source.id, LiveSource.is_stream_active.is_(True))
                    .values(
                        stream_attributes=attributes.to_wire(),
                        compatibility_info=info.to_wire(),
                        probed_at=now,
                    )
                )
                if attributes.video_width and attributes.video_height:
                    await session.execute(
                        update(LiveBroadcast)
                        .where(
                            LiveBroadcast.source_id == source.id,
                            LiveBroadcast.state.in_(ACTIVE),
                        )
                        .values(width=attributes.video_width, height=attributes.video_height)
                    )
                await session.commit()

    async def measure(
        self, live_name: str, stat: nginx.StreamStat
    ) -> compat.StreamAttributes | None:
        segments = self.files.recent_segments("low", live_name, 4)
        if stat.video_codec == "H264" and len(segments) < 2:
            return None  # the HLS preview has not started yet
        paths = [str(s) for s in segments]
        interval = await keyframe_interval(paths)
        listed = _durations(self.files.playlist("low", live_name) or b"")
        seconds = sum(listed.get(s.name, 0.0) for s in segments)
        measured = await payload_bitrates(paths, seconds)
        video_bitrate: int | None = stat.bw_video or None
        audio_bitrate: int | None = stat.bw_audio or None
        if measured is not None:
            # Video: the larger of the two: the preview relay is nginx's subscriber, and a
            # subscriber that falls behind has frames dropped, so its segments can carry
            # less than arrived. Audio: the segments' (nginx's 10 s window overshoots).
            video_bitrate = max(measured[0], video_bitrate or 0) or None
            audio_bitrate = measured[1] or None
        return compat.StreamAttributes(
            video_codec=None
            if stat.video_codec is None
            else _CODECS.get(stat.video_codec, stat.video_codec),
            video_bitrate=video_bitrate,
            video_framerate=stat.frame_rate,
            video_keyframe_interval_in_seconds=interval,
            video_width=stat.width,
            video_height=stat.height,
            audio_codec=None
            if stat.audio_codec is None
            else _CODECS.get(stat.audio_codec, stat.audio_codec),
            audio_profile=stat.audio_profile,
            audio_bitrate=audio_bitrate if stat.audio_codec else None,
            audio_sampling_rate=stat.audio_sample_rate,
            audio_num_channels=stat.audio_channels,
        )

    async def settle_recordings(self, now: datetime) -> None:
        """Ingests that never reported a recording count as recorded (nothing) after a
        grace; and every ended broadcast still waiting is looked at again: END and the
        last publish_done can commit side by side, each seeing the other's change not yet,
        and neither queue the recording (the claim in ``maybe_queue`` is conditional, so
        looking again never queues twice)."""
        async with self.sessions() as session:
            stale = await hooks.stale_unrecorded(session, now=now, grace=_RECORD_GRACE_SECS)
            for ingest in stale:
                ingest.recorded = True
            await session.flush()
            waiting = set(
                await session.scalars(
                    select(LiveBroadcast.id).where(
                        LiveBroadcast.state == BroadcastState.ENDED.value,
                        LiveBroadcast.recording_state == "waiting",
                    )
                )
            )
            for broadcast_id in waiting | {i.broadcast_id for i in stale if i.broadcast_id}:
                await hooks.maybe_queue(session, self.files, broadcast_id, now=now)
            await session.commit()

    # --- hls sources ----------------------------------------------------------------

    async def pull(self, now: datetime) -> None:
        """Each ``hls`` source with an active broadcast is pulled by one ffmpeg into the
        ingest server under its own key (so it passes on_publish like an encoder)."""
        async with self.sessions() as session:
            rows = list(
                await session.execute(
                    select(LiveSource.id, LiveSource.stream_key, LiveSource.external_hls_url)
                    .join(LiveBroadcast, LiveBroadcast.source_id == LiveSource.id)
                    .where(
                        LiveSource.type == SourceType.HLS.value,
                        LiveBroadcast.state.in_(ACTIVE),
                    )
                )
            )
        wanted = {source_id: (key, url) for source_id, key, url in rows if url}
        for source_id in list(self.pulls):
            if source_id not in wanted:
                await self._stop(source_id)
        clock = time.monotonic()
        for source_id, (key, url) in wanted.items():
            running = self.pulls.get(source_id)
            if running is not None and running.process.returncode is None:
                continue
            if running is not None:
                log.warning(
                    "hls pull of source %s exited (%s)", source_id, running.process.returncode
                )
                self.pulls.pop(source_id)
                self._failed_pulls[source_id] = clock
            if clock - self._failed_pulls.get(source_id, 0.0) < _PULL_RETRY_SECS:
                continue
            target = f"rtmp://127.0.0.1:{self.settings.rtmp_port}/{nginx.APP}/{key}"
            process = await asyncio.create_subprocess_exec(
                get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-re", "-i", url,
                "-c", "copy", "-bsf:a", "aac_adtstoasc", "-f", "flv", target,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            self.pulls[source_id] = _Pull(process, url, clock)

    # --- SRT ------------------------------------------------------------------------

    async def listen_srt(self) -> None:
        """With ``srt_ports`` set, each rtmp source has an ffmpeg SRT listener on its port
        (passphrase: the stream key) relaying what a caller sends into the RTMP ingest
        under the key, so it passes on_publish like any encoder. A listener ends with its
        caller and is started again; a replaced key restarts it."""
        if self.settings.srt_ports is None:
            return
        async with self.sessions() as session:
            rows = list(
                await session.execute(
                    select(LiveSource.id, LiveSource.stream_key, LiveSource.srt_port).where(
                        LiveSource.type == SourceType.RTMP.value, LiveSource.srt_port.is_not(None)
                    )
                )
            )
        wanted = {source_id: f"{port}:{key}" for source_id, key, port in rows}
        for source_id, listener in list(self.listeners.items()):
            if wanted.get(source_id) != listener.url:
                await self._stop(source_id, self.listeners)
        clock = time.monotonic()
        for source_id, spec in wanted.items():
            running = self.listeners.get(source_id)
            if running is not None and running.process.returncode is None:
                continue
            if running is not None:
                self.listeners.pop(source_id)
                if clock - running.started < 2.0:  # it could not even listen
                    self._failed_pulls[source_id] = clock
            if clock - self._failed_pulls.get(source_id, 0.0) < _PULL_RETRY_SECS:
                continue
            port, key = spec.split(":", 1)
            listen = f"srt://{self.settings.bind}:{port}?mode=listener&passphrase={key}&pbkeylen=16"
            target = f"rtmp://127.0.0.1:{self.settings.rtmp_port}/{nginx.APP}/{key}"
            process = await asyncio.create_subprocess_exec(
                get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", listen,
                "-c", "copy", "-bsf:a", "aac_adtstoasc", "-f", "flv", target,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            self.listeners[source_id] = _Pull(process, spec, clock)

    async def _stop(self, source_id: str, where: dict[str, _Pull] | None = None) -> None:
        pull = (self.pulls if where is None else where).pop(source_id, None)
        if pull is None or pull.process.returncode is not None:
            return
        pull.process.terminate()
        try:
            await asyncio.wait_for(pull.process.wait(), 5)
        except TimeoutError:
            pull.process.kill()
            await pull.process.wait()

    async def stop_pulls(self) -> None:
        for source_id in list(self.pulls):
            await self._stop(source_id)
        for source_id in list(self.listeners):
            await self._stop(source_id, self.listeners)

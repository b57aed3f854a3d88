"""``mediastudio upload``: our own resumable client for the v2 chunked endpoints.

It sends up to three segments at once, each with ``X-Segment-SHA256``, and keeps a state
file (``$XDG_CACHE_HOME/mediastudio/uploads/<sha256 of file hash + server>.json``). A rerun
asks STATUS for ``upload_info`` and sends only the segments the server lacks, then waits
for processing and prints the media id. Talks HTTP only: no app internals.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import mimetypes
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

__all__ = ["UploadFailed", "UploadJob", "run_upload", "state_path"]

MIB = 1024 * 1024
MAX_SEGMENTS = 1000
IN_FLIGHT = 3
RETRIES = 3


class UploadFailed(Exception):
    """The server refused the upload or stayed unreachable; the message says why."""


@dataclass(frozen=True)
class UploadJob:
    path: Path
    server: str
    token: str
    category: str | None = None
    media_type: str | None = None
    segment_size: int = 4 * MIB
    max_rate: float | None = None  # bytes per second over all segments, for slow links


@dataclass
class _State:
    media_id: str
    server: str
    file_sha256: str
    size: int
    segment_size: int


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(MIB):
            digest.update(block)
    return digest.hexdigest()


def state_path(file_sha256: str, server: str) -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    key = hashlib.sha256(f"{file_sha256}\n{server.rstrip('/')}".encode()).hexdigest()
    return cache / "mediastudio" / "uploads" / f"{key}.json"


def _read_segment(path: Path, index: int, size: int) -> bytes:
    with path.open("rb") as fh:
        fh.seek(index * size)
        return fh.read(size)


class _Uploader:
    def __init__(self, job: UploadJob, client: httpx.AsyncClient, console: Console) -> None:
        self.job = job
        self.client = client
        self.console = console
        self.sent_bytes = 0
        self.started = time.monotonic()

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Retry transport failures and 5xx answers with backoff; return anything else."""
        for attempt in range(RETRIES + 1):
            try:
                response = await self.client.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                if attempt == RETRIES:
                    raise UploadFailed(f"{self.job.server} unreachable: {exc!r}") from None
            else:
                if response.status_code < 500 or attempt == RETRIES:
                    return response
            await asyncio.sleep(0.5 * 2**attempt)
        raise AssertionError("unreachable")

    def check(self, response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail") or response.text
            except ValueError:
                detail = response.text
            raise UploadFailed(f"{response.request.url.path}: {response.status_code} {detail}")
        body: dict[str, Any] = response.json() if response.content else {}
        return body

    async def initialize(self, size: int, segment_size: int, file_sha: str) -> _State:
        media_type = self.job.media_type or mimetypes.guess_type(self.job.path.name)[0]
        body = {"media_type": media_type or "application/octet-stream", "total_bytes": size}
        if self.job.category:
            body["media_category"] = self.job.category
        data = self.check(await self.request("POST", "/2/media/upload/initialize", json=body))
        return _State(data["data"]["id"], self.job.server, file_sha, size, segment_size)

    async def stored_segments(self, state: _State) -> tuple[str, set[int]] | None:
        """The upload's state and the indexes stored intact, or None if it is gone."""
        response = await self.request("GET", "/2/media/upload", params={"media_id": state.media_id})
        if response.status_code >= 400:
            return None
        data = response.json()["data"]
        processing = (data.get("processing_info") or {}).get("state", "succeeded")
        stored: set[int] = set()
        for segment in (data.get("upload_info") or {}).get("segments", []):
            index = segment["segment_index"]
            local = await asyncio.to_thread(_read_segment, self.job.path, index, state.segment_size)
            if segment["size"] == len(local) and segment["sha256"] == _sha(local):
                stored.add(index)
        return processing, stored

    async def append(self, state: _State, index: int, progress: Progress, task: TaskID) -> None:
        chunk = await asyncio.to_thread(_read_segment, self.job.path, index, state.segment_size)
        await self._throttle(len(chunk))
        response = await self.request(
            "POST",
            f"/2/media/upload/{state.media_id}/append",
            data={"segment_index": str(index)},
            files={"media": ("blob", chunk, "application/octet-stream")},
            headers={"X-Segment-SHA256": _sha(chunk)},
        )
        self.check(response)
        progress.update(task, advance=len(chunk))

    async def _throttle(self, size: int) -> None:
        self.sent_bytes += size
        if self.job.max_rate:
            due = self.started + self.sent_bytes / self.job.max_rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))

    async def finalize_and_wait(self, state: _State, already: str) -> dict[str, Any]:
        data: dict[str, Any]
        if already == "uploading":
            url = f"/2/media/upload/{state.media_id}/finalize"
            data = self.check(await self.request("POST", url))["data"]
        else:
            data = self.check(
                await self.request("GET", "/2/media/upload", params={"media_id": state.media_id})
            )["data"]
        with self.console.status("processing") as status:
            while (info := data.get("processing_info")) and info["state"] in (
                "pending",
                "in_progress",
            ):
                status.update(f"processing {info.get('progress_percent', 0)}%")
                await asyncio.sleep(info.get("check_after_secs", 1))
                response = await self.request(
                    "GET", "/2/media/upload", params={"media_id": state.media_id}
                )
                data = self.check(response)["data"]
        if (data.get("processing_info") or {}).get("state") == "failed":
            error = data["processing_info"].get("error", {})
            raise UploadFailed(f"processing failed: {error.get('message', 'unknown error')}")
        return data


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def run_upload(job: UploadJob, console: Console) -> str:
    """Upload (or resume) ``job.path``; returns the media id once it is usable."""
    size = job.path.stat().st_size
    file_sha = await asyncio.to_thread(_file_sha256, job.path)
    state_file = state_path(file_sha, job.server)
    segment_size = max(job.segment_size, math.ceil(size / MAX_SEGMENTS))
    headers = {"Authorization": f"Bearer {job.token}"}
    async with httpx.AsyncClient(base_url=job.server, headers=headers, timeout=120) as client:
        uploader = _Uploader(job, client, console)
        state, found = None, None
        if saved := await asyncio.to_thread(_load_state, state_file):
            state = saved
            found = await uploader.stored_segments(state)
        if state is None or found is None:
            state = await uploader.initialize(size, segment_size, file_sha)
            await asyncio.to_thread(_save_state, state_file, state)
            found = ("uploading", set())
        processing, stored = found
        count = max(1, math.ceil(size / state.segment_size))
        missing = [i for i in range(count) if i not in stored] if processing == "uploading" else []
        if stored:
            console.print(f"resuming {state.media_id}: {len(stored)} of {count} segments stored")
        await _send(uploader, state, missing, size, console)
        data = await uploader.finalize_and_wait(state, processing)
    await asyncio.to_thread(state_file.unlink, missing_ok=True)
    return str(data["id"])


def _load_state(path: Path) -> _State | None:
    try:
        return _State(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _save_state(path: Path, state: _State) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(state)))


async def _send(
    uploader: _Uploader, state: _State, missing: list[int], size: int, console: Console
) -> None:
    columns = (BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        seg = state.segment_size
        done = size - sum(min(seg, size - i * seg) for i in missing)
        task = progress.add_task("upload", total=size, completed=done)
        queue: asyncio.Queue[int] = asyncio.Queue()
        for index in missing:
            queue.put_nowait(index)

        async def worker() -> None:
            while not queue.empty():
                await uploader.append(state, queue.get_nowait(), progress, task)

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(IN_FLIGHT, len(missing))):
                    group.create_task(worker())
        except* UploadFailed as failures:
            raise failures.exceptions[0] from None

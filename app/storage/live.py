"""The live ingest's local files: nginx's generated config, the HLS it writes while video
arrives (``hls/low|high/<live_name>/``), the recordings it leaves (``recordings/``) and the
hook secret. nginx writes these on the service's behalf; reading and removing them goes
through here, like every other byte of the service.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from pathlib import Path

__all__ = ["LiveFiles"]

_SEGMENT = re.compile(r"^[0-9]{1,12}\.ts$")
_NAME = re.compile(r"^[a-z0-9]{1,32}$")
MODES = ("low", "high")


class LiveFiles:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.hls = root / "hls"
        self.recordings = root / "recordings"
        self.run = root / "run"

    @classmethod
    def of(cls, data_dir: Path) -> LiveFiles:
        """The live ingest's files of a data folder (``DATA_DIR/live``)."""
        return cls(data_dir / "live")

    def prepare(self) -> None:
        for folder in (self.recordings, self.run, *(self.hls / mode for mode in MODES)):
            folder.mkdir(parents=True, exist_ok=True)

    def write_config(self, text: str) -> Path:
        self.prepare()
        path = self.run / "nginx.conf"
        staged = path.with_suffix(".tmp")
        staged.write_text(text)
        os.replace(staged, path)
        return path

    def hook_secret(self) -> str:
        """The secret nginx's hook URLs carry: made once per data folder, 0600."""
        path = self.run / "hook-secret"
        with contextlib.suppress(FileNotFoundError):
            value = path.read_text().strip()
            if value:
                return value
        self.prepare()
        value = secrets.token_urlsafe(24)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(value)
        return value

    def _stream_dir(self, mode: str, live_name: str) -> Path | None:
        if mode not in MODES or not _NAME.match(live_name):
            return None
        return self.hls / mode / live_name

    def playlist(self, mode: str, live_name: str) -> bytes | None:
        folder = self._stream_dir(mode, live_name)
        if folder is None:
            return None
        try:
            return (folder / "index.m3u8").read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def segment(self, mode: str, live_name: str, name: str) -> Path | None:
        folder = self._stream_dir(mode, live_name)
        if folder is None or not _SEGMENT.match(name):
            return None
        path = folder / name
        return path if path.is_file() else None

    def recent_segments(self, mode: str, live_name: str, count: int) -> list[Path]:
        """The last ``count`` segments the live playlist lists, oldest first."""
        text = self.playlist(mode, live_name)
        if text is None:
            return []
        names = [
            line for line in text.decode(errors="replace").splitlines() if _SEGMENT.match(line)
        ]
        found = [self.segment(mode, live_name, name) for name in names[-count:]]
        return [path for path in found if path is not None]

    def remove_stream(self, live_name: str) -> None:
        for mode in MODES:
            folder = self._stream_dir(mode, live_name)
            if folder is None or not folder.is_dir():
                continue
            for item in folder.iterdir():
                with contextlib.suppress(FileNotFoundError):
                    item.unlink()
            with contextlib.suppress(OSError):
                folder.rmdir()

    def recording_name(self, path: str) -> str | None:
        """The file name of a recording nginx reports, if it is in the recordings folder."""
        candidate = Path(path)
        try:
            resolved = candidate.resolve()
            if resolved.parent != self.recordings.resolve() or not resolved.is_file():
                return None
        except (OSError, ValueError):  # ValueError: a NUL in the path
            return None
        return resolved.name

    def recording(self, name: str) -> Path | None:
        path = self.recordings / name
        if "/" in name or name.startswith(".") or not path.is_file():
            return None
        return path

    def remove_recording(self, name: str) -> None:
        if "/" in name or name.startswith("."):
            return
        with contextlib.suppress(FileNotFoundError):
            (self.recordings / name).unlink()

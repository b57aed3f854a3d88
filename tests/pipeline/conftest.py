"""The pipeline end to end: uploads over HTTP, jobs run with ``Runner.run_once``,
outputs fetched through the public delivery URLs. Real media, made once per session
and kept small; ffmpeg runs with the ultrafast preset."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import pytest
from PIL import ExifTags, Image

from app.core.clock import utcnow
from app.http.v11 import presenters
from app.jobs.runner import Runner
from app.media import delivery
from app.uploads.policy import ProcessingOptions
from tests.conftest import Env
from tests.fixtures.media import make_clip

FAST = ProcessingOptions(ffmpeg_threads=2, ffmpeg_preset="ultrafast")
BASE_URL = "http://testserver"


@pytest.fixture
async def env(env: Env) -> Env:
    env.state.policy = replace(env.state.policy, processing=FAST)
    return env


def runner(env: Env, **kwargs: Any) -> Runner:
    return Runner(env.state.sessions, env.state.store, env.state.policy, **kwargs)


async def media_object(env: Env, media_id: int | str) -> dict[str, Any]:
    """The v1.1 media object the entity endpoints will show, as JSON."""
    async with env.state.sessions() as session:
        view, variants = await delivery.load_deliverable(
            session, media_id=int(media_id), now=utcnow()
        )
    built = presenters.media_object_v11(view, variants, base_url=BASE_URL)
    return built.model_dump(mode="json", exclude_none=True)


def decode_errors(path: Path) -> str:
    """What ffmpeg says while decoding the whole file ("" when it decodes cleanly)."""
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "null", "-"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    return result.stderr if result.returncode == 0 else f"exit {result.returncode}: {result.stderr}"


@pytest.fixture(scope="session")
def pipeline_media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pipeline-media")


@pytest.fixture(scope="session")
def clip_720p(pipeline_media: Path) -> Path:
    """3 s, 1280x720, 30 fps, H.264 + AAC-LC."""
    return make_clip(pipeline_media / "720p.mp4", size="1280x720", rate=30, seconds=3)


@pytest.fixture(scope="session")
def clip_720p_10s(pipeline_media: Path) -> Path:
    """10 s of 720p (about 9 MB): its transcode lasts long enough to watch."""
    return make_clip(pipeline_media / "720p-10s.mp4", size="1280x720", rate=30, seconds=10)


@pytest.fixture(scope="session")
def clip_150s(pipeline_media: Path) -> Path:
    """150 s at 64x64 and 1 fps: too long for tweet_video, yet tiny."""
    return make_clip(pipeline_media / "long.mp4", size="64x64", rate=1, seconds=150, audio=False)


@pytest.fixture(scope="session")
def clip_truncated(clip_720p: Path, pipeline_media: Path) -> Path:
    """The first 100 kB of the 720p clip: its moov box (at the end) is missing."""
    path = pipeline_media / "truncated.mp4"
    with clip_720p.open("rb") as source:
        path.write_bytes(source.read(100_000))
    return path


@pytest.fixture(scope="session")
def jpeg_with_gps(pipeline_media: Path) -> Path:
    """1200x800 JPEG with EXIF orientation 6 (displays 800x1200), GPS and a camera."""
    path = pipeline_media / "gps.jpg"
    image = Image.new("RGB", (1200, 800), "navy")
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "TestCam"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (52.0, 31.0, 12.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (13.0, 24.0, 36.0),
    }
    image.save(path, "JPEG", exif=exif, comment=b"shot at home")
    return path


@pytest.fixture(scope="session")
def animated_gif(pipeline_media: Path) -> Path:
    """10 frames at an odd 121x91."""
    path = pipeline_media / "anim.gif"
    frames = [Image.new("RGB", (121, 91), (i * 25, 0, 255 - i * 25)) for i in range(10)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return path

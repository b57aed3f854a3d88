"""An SDK generated from ``openapi/openapi.json`` by openapi-python-client drives the
whole protocol and posts the media, over a real socket: the spec is complete enough."""

from __future__ import annotations

import importlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.compat.conftest import BIN, LiveServer

pytestmark = pytest.mark.slow
SPEC = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
PACKAGE = "media_studio_api_client"


@pytest.fixture(scope="session")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    out = tmp_path_factory.mktemp("sdk") / "client"
    subprocess.run(
        [str(BIN / "openapi-python-client"), "generate", "--path", str(SPEC),
         "--output-path", str(out), "--overwrite"],
        check=True, capture_output=True,
    )  # fmt: skip
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))


def _load(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_generated_sdk_uploads_a_video_and_posts_it(
    sdk: ModuleType, proxied_server: LiveServer, mp4_file: Path
) -> None:
    creds = proxied_server.user("sdk")
    upload = _load("api.media_v1_1.media_v1_1_upload")
    status = _load("api.media_v1_1.media_v1_1_status")
    create_tweet = _load("api.tweets_v2.tweets_v2_create_tweet")
    models = _load("models")
    types = _load("types")
    data = mp4_file.read_bytes()
    with sdk.AuthenticatedClient(base_url=proxied_server.base, token=creds.bearer_token) as client:
        started, appended, finalized, state, posted = _drive(
            client, upload, status, create_tweet, models, types, data
        )

    assert started.status_code == 202
    assert appended == [204, 204]
    assert finalized.status_code == 200
    assert str(state) == "succeeded"
    assert posted.status_code == 201
    assert "/2/tweets/" in posted.headers["location"]


def _drive(
    client: Any, upload: Any, status: Any, create_tweet: Any, models: Any, types: Any, data: bytes
) -> tuple[Any, list[int], Any, Any, Any]:
    started = upload.sync_detailed(
        client=client,
        body=models.MediaV11UploadDataBody(
            command=models.MediaV11UploadDataBodyCommand.INIT,
            total_bytes=len(data),
            media_type="video/mp4",
            media_category=models.MediaV11UploadDataBodyMediaCategory.TWEET_VIDEO,
        ),
    )
    assert started.status_code == 202, started.content
    media_id = started.parsed.media_id_string
    half = len(data) // 2
    appended = [
        upload.sync_detailed(
            client=client,
            body=models.MediaV11UploadFilesBody(
                command=models.MediaV11UploadFilesBodyCommand.APPEND,
                media_id=media_id,
                segment_index=index,
                media=types.File(payload=chunk, file_name="clip.mp4"),
            ),
        ).status_code
        for index, chunk in enumerate((data[:half], data[half:]))
    ]
    finalized = upload.sync_detailed(
        client=client,
        body=models.MediaV11UploadDataBody(
            command=models.MediaV11UploadDataBodyCommand.FINALIZE, media_id=media_id
        ),
    )
    assert finalized.status_code == 200, finalized.content
    state = finalized.parsed.processing_info.state
    deadline = time.monotonic() + 60
    while str(state) in ("pending", "in_progress") and time.monotonic() < deadline:
        time.sleep(0.3)
        polled = status.sync_detailed(client=client, media_id=int(media_id), command="STATUS")
        state = polled.parsed.processing_info.state
    posted = create_tweet.sync_detailed(
        client=client,
        body=models.TweetCreate(
            text="from a generated SDK", media=models.TweetMedia(media_ids=[media_id])
        ),
    )
    return started, appended, finalized, state, posted

"""tweepy 4.x ``API`` (v1.1, OAuth 1.0a) against a TLS uvicorn: real signatures verify."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import tweepy

from tests.compat.conftest import Credentials, LiveServer

pytestmark = [
    pytest.mark.slow,
    # tweepy sniffs image types with imghdr on Python <= 3.12 (its import warns on 3.11+)
    pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning"),
]


def _api(server: LiveServer, creds: Credentials) -> tweepy.API:
    auth = tweepy.OAuth1UserHandler(
        creds.consumer_key, creds.consumer_secret, creds.access_token, creds.access_token_secret
    )
    return tweepy.API(auth, host=server.host, upload_host=server.host)


@pytest.fixture
def api(
    tls_server: LiveServer, tls_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tweepy.API]:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_files["ca"]))
    client = _api(tls_server, tls_server.user("tweepy"))
    yield client
    client.session.close()  # a kept-alive connection would hold up the server's shutdown


def test_simple_png_upload(api: tweepy.API, png_file: Path) -> None:
    media = api.media_upload(str(png_file))

    assert media.image == {"image_type": "image/png", "w": 64, "h": 48}
    assert media.media_id_string == str(media.media_id)


def test_chunked_tweet_video_waits_for_processing(api: tweepy.API, mp4_file: Path) -> None:
    size = mp4_file.stat().st_size

    media = api.media_upload(str(mp4_file), media_category="tweet_video", chunk_size=32 * 1024)

    assert size > 3 * 32 * 1024  # several APPENDs
    assert media.processing_info["state"] == "succeeded"
    assert media.size == size
    assert media.video == {"video_type": "video/mp4"}


def test_create_media_metadata(api: tweepy.API, png_file: Path, tls_server: LiveServer) -> None:
    media = api.media_upload(str(png_file))

    try:
        api.create_media_metadata(media.media_id, "a pink rectangle")
    except tweepy.NotFound:
        pytest.skip("media/metadata/create.json is not routed yet")


def test_a_wrong_secret_is_refused(
    tls_server: LiveServer,
    tls_files: dict[str, Path],
    png_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_files["ca"]))
    creds = tls_server.user("mallory")
    forged = Credentials(**{**vars(creds), "access_token_secret": "guess"})

    api = _api(tls_server, forged)

    with pytest.raises(tweepy.Unauthorized) as refused:
        api.media_upload(str(png_file))
    api.session.close()

    assert refused.value.api_codes == [32]

"""tweepy 4.x ``API`` (v1.1, OAuth 1.0a) against a TLS uvicorn: real signatures verify."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import tweepy
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter

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

    api.create_media_metadata(media.media_id, "a pink rectangle")


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


def test_update_status_with_the_uploaded_media(api: tweepy.API, png_file: Path) -> None:
    first = api.media_upload(str(png_file))
    second = api.media_upload(str(png_file))
    api.create_media_metadata(first.media_id, "a pink rectangle")

    status = api.update_status("two photos", media_ids=[first.media_id, second.media_id])
    shown = api.get_status(status.id, include_ext_alt_text=True)

    assert status.text.startswith("two photos")
    assert [m["id"] for m in status.extended_entities["media"]] == [
        first.media_id,
        second.media_id,
    ]
    assert status.created_at.tzinfo is not None  # Twitter's date format parsed
    assert shown.extended_entities["media"][0]["ext_alt_text"] == "a pink rectangle"


def test_gif_with_tweet_gif_goes_through_the_simple_upload(api: tweepy.API, gif_file: Path) -> None:
    media = api.media_upload(str(gif_file), media_category="tweet_gif")  # tweepy's default path

    assert media.image == {"image_type": "image/gif", "w": 40, "h": 30}
    assert media.media_key == f"16_{media.media_id}"
    status = api.update_status("a gif from tweepy", media_ids=[media.media_id])
    [entity] = status.extended_entities["media"]
    assert entity["type"] == "animated_gif"
    assert entity["video_info"]["variants"][0]["content_type"] == "video/mp4"


def test_statuses_count_follows_posts(api: tweepy.API) -> None:
    me = api.verify_credentials()
    assert (me.screen_name, me.statuses_count) == ("tweepy", 0)

    posted = api.update_status("counted")
    assert api.get_user(user_id=me.id).statuses_count == 1
    api.destroy_status(posted.id)

    assert api.get_user(user_id=me.id).statuses_count == 0


class _Redirect(HTTPAdapter):
    """tweepy.Client has no host knob: send api.twitter.com requests to the local server
    after signing, keeping the Host the client signed (so the signature verifies)."""

    def __init__(self, server: LiveServer, ca: Path) -> None:
        super().__init__()
        self.server, self.ca = server, ca

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> Response:
        url = request.url or ""
        request.headers["Host"] = "api.twitter.com"
        request.url = url.replace("https://api.twitter.com", self.server.base, 1)
        return super().send(request, stream, timeout, str(self.ca), cert, proxies)


@pytest.mark.parametrize("scheme", ["oauth1", "bearer"])
def test_client_create_tweet_with_media(
    api: tweepy.API, tls_server: LiveServer, tls_files: dict[str, Path], png_file: Path,
    scheme: str,
) -> None:  # fmt: skip
    creds = tls_server.user(f"client-{scheme}")
    uploader = _api(tls_server, creds)
    media = uploader.media_upload(str(png_file))
    uploader.session.close()
    if scheme == "oauth1":
        client = tweepy.Client(
            consumer_key=creds.consumer_key, consumer_secret=creds.consumer_secret,
            access_token=creds.access_token, access_token_secret=creds.access_token_secret,
        )  # fmt: skip
    else:
        client = tweepy.Client(bearer_token=creds.bearer_token)
    client.session.mount("https://api.twitter.com/", _Redirect(tls_server, tls_files["ca"]))

    response = client.create_tweet(
        text="posted with tweepy.Client", media_ids=[media.media_id], user_auth=scheme == "oauth1"
    )
    client.session.close()

    assert response.data["text"] == "posted with tweepy.Client"
    assert response.data["edit_history_tweet_ids"] == [response.data["id"]]

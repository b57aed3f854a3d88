"""Helpers for driving the studio with the unmodified ``twitter-ads`` 11.0.0 SDK over a
real socket (tests/compat/test_twitter_ads.py).

The SDK is pointed at the service as the wire reference says (§13.2): its class attribute
``twitter_ads.http.Request._DEFAULT_DOMAIN`` (and ``restapi.UserIdLookup.DOMAIN``, the
examples' ``users/show`` lookup) name the server; ``pointed_at`` sets and restores them.
Uploads go through the SDK's own ``Request(..., domain=)`` as its examples do: the
parameters in the query string, the bytes as a multipart ``media`` part.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from requests_oauthlib import OAuth1
from twitter_ads import http as ads_http
from twitter_ads import restapi
from twitter_ads.client import Client
from twitter_ads.http import Request

from tests.compat.conftest import Credentials

__all__ = ["UPLOAD", "Raw", "client_of", "pointed_at", "upload_chunked", "upload_photo"]

UPLOAD = "/1.1/media/upload.json"


@contextmanager
def pointed_at(base_url: str) -> Iterator[None]:
    """The SDK's hosts set to ``base_url`` for the duration, then restored."""
    saved = ads_http.Request._DEFAULT_DOMAIN, restapi.UserIdLookup.DOMAIN
    ads_http.Request._DEFAULT_DOMAIN = base_url
    restapi.UserIdLookup.DOMAIN = base_url
    try:
        yield
    finally:
        ads_http.Request._DEFAULT_DOMAIN, restapi.UserIdLookup.DOMAIN = saved


def client_of(creds: Credentials) -> Client:
    return Client(
        creds.consumer_key, creds.consumer_secret, creds.access_token, creds.access_token_secret
    )


def upload_photo(client: Client, base_url: str, path: Path, **params: str) -> dict[str, Any]:
    """The SDK's ``examples/media_upload.py``: one POST, ``media_category`` in the query."""
    with path.open("rb") as data:
        response = Request(
            client,
            "post",
            UPLOAD,
            domain=base_url,
            files={"media": (None, data)},
            params={"media_category": "TWEET_IMAGE", **params},
        ).perform()
    body: dict[str, Any] = response.body
    return body


def upload_chunked(
    client: Client,
    base_url: str,
    path: Path,
    *,
    media_type: str,
    category: str,
    chunk: int = 64 * 1024,
    timeout: float = 60,
) -> dict[str, Any]:
    """INIT, APPEND (several), FINALIZE, then STATUS until processing ends, all through
    the SDK's ``Request``; the last STATUS/FINALIZE body."""

    def call(method: str, **options: Any) -> dict[str, Any]:
        response = Request(client, method, UPLOAD, domain=base_url, **options).perform()
        body: dict[str, Any] = response.body
        return body

    data = path.read_bytes()
    started = call(
        "post",
        params={
            "command": "INIT",
            "total_bytes": str(len(data)),
            "media_type": media_type,
            "media_category": category,
        },
    )
    media_id = started["media_id_string"]
    for index, start in enumerate(range(0, len(data), chunk)):
        call(
            "post",
            params={"command": "APPEND", "media_id": media_id, "segment_index": str(index)},
            files={"media": (None, data[start : start + chunk])},
        )
    body = call("post", params={"command": "FINALIZE", "media_id": media_id})
    deadline = time.monotonic() + timeout
    while body.get("processing_info", {}).get("state") in ("pending", "in_progress"):
        assert time.monotonic() < deadline, body
        time.sleep(min(float(body["processing_info"].get("check_after_secs", 1)), 0.5))
        body = call("get", params={"command": "STATUS", "media_id": media_id})
    return body


class Raw:
    """Plain HTTP with OAuth 1.0a (requests-oauthlib, as the SDK signs), for what the
    SDK lacks: ``/studio/v1``, and the ``false``/``0`` values its ``from_response``
    drops (§13.3)."""

    def __init__(self, base_url: str, creds: Credentials) -> None:
        self.base = base_url
        self.session = requests.Session()
        self.session.auth = OAuth1(
            creds.consumer_key,
            client_secret=creds.consumer_secret,
            resource_owner_key=creds.access_token,
            resource_owner_secret=creds.access_token_secret,
        )

    def __call__(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.base + path, timeout=30, **kwargs)

    def data(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self(method, path, **kwargs)
        assert response.status_code < 300, response.text
        return response.json()["data"]

    def close(self) -> None:
        self.session.close()

"""OAuth 1.0a user context (RFC 5849), HMAC-SHA1 only, as Twitter's clients sign.

Signed parameters are the ``Authorization: OAuth`` header's, the query string's and, only
for ``application/x-www-form-urlencoded`` bodies, the body's. Multipart and JSON bodies
are not signed and are never read here, so they still stream to the route. A urlencoded
body (up to ``max_signed_body_bytes``) is read once; Starlette keeps it on the request and
``request.stream()`` replays it to the route's parser.

The base string URL is the one the client addressed: scheme and ``Host`` of the request,
or ``X-Forwarded-Proto``/``X-Forwarded-Host`` when the peer is a trusted proxy. Other
hints (``X-Original-Host``, ``Forwarded``) are ignored.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from datetime import UTC, datetime, timedelta
from functools import cached_property
from types import SimpleNamespace
from urllib.parse import parse_qsl

from oauthlib.oauth1.rfc5849 import signature, utils
from python_multipart.multipart import parse_options_header
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import ClientDisconnect, Request

from app.accounts import oauth
from app.config import OAuthSettings
from app.core import errors

__all__ = ["InvalidOrExpiredToken", "OAuth1Authenticator", "SignedBodyTooLarge"]

log = logging.getLogger(__name__)

_REQUIRED = (
    "oauth_consumer_key",
    "oauth_token",
    "oauth_signature_method",
    "oauth_signature",
    "oauth_timestamp",
    "oauth_nonce",
)
_URLENCODED = b"application/x-www-form-urlencoded"


class InvalidOrExpiredToken(errors.NotAuthenticated):
    """The OAuth access token is unknown (never issued, or revoked)."""

    twitter_code = 89
    message = "Invalid or expired token."


class SignedBodyTooLarge(errors.ApiError):
    """A form-encoded body too large to read for its signature; send multipart instead."""

    http_status = 413
    twitter_code = 32

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"Could not authenticate you: form-encoded bodies over {limit} bytes cannot be "
            "verified; send multipart/form-data.",
            max_signed_body_bytes=limit,
        )


def _refuse(reason: str) -> errors.NotAuthenticated:
    log.warning("oauth refused", extra={"reason": reason})
    return errors.NotAuthenticated()


class OAuth1Authenticator:
    def __init__(self, settings: OAuthSettings) -> None:
        self.settings = settings

    @cached_property
    def _proxies(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [ipaddress.ip_network(p, strict=False) for p in self.settings.trusted_proxies]

    async def authenticate(
        self, request: Request, sessions: async_sessionmaker[AsyncSession]
    ) -> int | None:
        header = request.headers.get("authorization", "")
        if header[:6].lower() != "oauth ":
            return None
        try:
            oauth_params = dict(utils.parse_authorization_header(header))
        except ValueError:
            raise _refuse("malformed header") from None
        if missing := [name for name in _REQUIRED if not oauth_params.get(name)]:
            raise _refuse(f"missing {missing[0]}")
        if oauth_params["oauth_signature_method"] != "HMAC-SHA1":
            raise _refuse("signature method")
        if oauth_params.get("oauth_version", "1.0") != "1.0":
            raise _refuse("version")
        timestamp = self._check_timestamp(oauth_params["oauth_timestamp"])

        async with sessions() as session:
            creds = await oauth.load_token(session, utils.unescape(oauth_params["oauth_token"]))
        if creds is None:
            log.warning("oauth refused", extra={"reason": "unknown access token"})
            raise InvalidOrExpiredToken()
        if not hmac.compare_digest(
            creds.consumer_key, utils.unescape(oauth_params["oauth_consumer_key"])
        ):
            raise _refuse("consumer key does not match the token's app")

        params = [*_header_params(header), *await self._query_and_body(request)]
        base = signature.signature_base_string(
            request.method.upper(), self._base_uri(request), signature.normalize_parameters(params)
        )
        secrets = SimpleNamespace(
            client_secret=creds.consumer_secret, resource_owner_secret=creds.token_secret
        )
        expected = signature.sign_hmac_sha1_with_client(base, secrets)
        given = utils.unescape(oauth_params["oauth_signature"])
        if not hmac.compare_digest(expected, given):
            raise _refuse("signature mismatch")

        fresh = await oauth.record_nonce(
            sessions,
            consumer_key=creds.consumer_key,
            token=utils.unescape(oauth_params["oauth_token"]),
            nonce=utils.unescape(oauth_params["oauth_nonce"]),
            timestamp=timestamp,
            expires_at=datetime.fromtimestamp(timestamp, UTC)
            + timedelta(seconds=self.settings.timestamp_window_secs),
        )
        if not fresh:
            raise _refuse("replayed nonce")
        request.state.client_app_id = creds.app_id  # for per-app rate limits
        return creds.account_id

    def _check_timestamp(self, raw: str) -> int:
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
            raise _refuse("timestamp")
        timestamp = int(raw)
        if abs(time.time() - timestamp) > self.settings.timestamp_window_secs:
            raise _refuse("timestamp out of window")
        return timestamp

    async def _query_and_body(self, request: Request) -> list[tuple[str, str]]:
        params = parse_qsl(request.url.query, keep_blank_values=True)
        content_type, _ = parse_options_header(request.headers.get("content-type", ""))
        if content_type == _URLENCODED and request.method not in ("GET", "HEAD"):
            body = await self._read_body(request)
            try:
                params += parse_qsl(body.decode("utf-8"), keep_blank_values=True)
            except UnicodeDecodeError:
                raise _refuse("body is not UTF-8") from None
        return params

    async def _read_body(self, request: Request) -> bytes:
        limit = self.settings.max_signed_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise SignedBodyTooLarge(limit)
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise SignedBodyTooLarge(limit)
                chunks.append(chunk)
        except ClientDisconnect:
            raise errors.BadParameter("The client closed the connection mid-body.") from None
        body = b"".join(chunks)
        # Starlette's own cache: request.stream() and request.body() now replay it.
        request._body = body
        return body

    def _base_uri(self, request: Request) -> str:
        scheme = request.url.scheme
        host = request.headers.get("host", "")
        if self._from_trusted_proxy(request):
            forwarded_proto = _first(request.headers.get("x-forwarded-proto"))
            forwarded_host = _first(request.headers.get("x-forwarded-host"))
            scheme = forwarded_proto.lower() if forwarded_proto else scheme
            host = forwarded_host or host
        raw_path = request.scope.get("raw_path")  # as the client sent it, still escaped
        path = raw_path.decode("latin-1").split("?", 1)[0] if raw_path else request.url.path
        try:
            return str(signature.base_string_uri(f"{scheme}://{host}{path}"))
        except ValueError:
            raise _refuse("unusable host") from None

    def _from_trusted_proxy(self, request: Request) -> bool:
        if not self._proxies or request.client is None:
            return False
        try:
            peer = ipaddress.ip_address(request.client.host)
        except ValueError:
            return False
        return any(peer in network for network in self._proxies)


def _header_params(header: str) -> list[tuple[str, str]]:
    return [
        (name, utils.unescape(value))
        for name, value in utils.parse_authorization_header(header)
        if name not in ("realm", "oauth_signature")
    ]


def _first(value: str | None) -> str:
    return value.split(",")[0].strip() if value else ""

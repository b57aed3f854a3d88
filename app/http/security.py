"""The spec's ``securitySchemes`` and each operation's ``security``, derived from routes.

An operation needs a user when its route depends, at any depth, on
``app.http.deps.get_current_user`` (``CurrentUser``, or a dependency that takes it, such
as the rate limits), or when its endpoint is marked ``@authenticates_by_hand`` (the two
hot v1.1 routes call ``solve_by_hand`` instead of declaring dependencies). Such an
operation lists both credentials as alternatives; every other operation declares
``security: []`` (public). A new route is therefore documented right without a list to
keep up: tests/http/test_security_spec.py checks that exactly the operations that
declare security answer 401 without credentials.

OpenAPI has no OAuth 1.0a scheme. Like Twitter's own OpenAPI document (its "UserToken"),
``oauth1`` is an ``http`` scheme named ``OAuth``: the ``Authorization: OAuth ...`` header
of RFC 5849, described in words.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant

from app.http.deps import get_current_user

__all__ = ["SCHEMES", "USER_SECURITY", "authenticates_by_hand", "document_security", "needs_user"]

SCHEMES: dict[str, dict[str, Any]] = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "`Authorization: Bearer <token>`: the bearer token printed by "
        "`mediastudio users create` (or `users rotate-token`). Twitter's app-only and "
        "OAuth 2.0 user-context tokens are bearer tokens too; here a bearer token always "
        "stands for the user it was issued to.",
    },
    "oauth1": {
        "type": "http",
        "scheme": "OAuth",
        "description": "OAuth 1.0a user context (RFC 5849), as Twitter's clients send it: "
        '`Authorization: OAuth oauth_consumer_key="...", oauth_token="...", '
        'oauth_signature_method="HMAC-SHA1", oauth_timestamp="...", oauth_nonce="...", '
        'oauth_version="1.0", oauth_signature="..."`. The signature is HMAC-SHA1 over the '
        "method, the URL and the parameters (the header's, the query string's and an "
        "urlencoded body's, never a multipart body's), keyed with the consumer secret "
        "and the access token secret (`mediastudio apps` / `users create`). Each request "
        "is signed anew, so Swagger UI cannot make it: use a client library (tweepy, "
        "twitter-api-v2) or the bearer token here.",
    },
}
USER_SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"oauth1": []}]

_MARK = "_mediastudio_authenticates_by_hand"
_Endpoint = TypeVar("_Endpoint", bound=Callable[..., Any])


def authenticates_by_hand(endpoint: _Endpoint) -> _Endpoint:
    """Mark an endpoint that authenticates its caller itself (``solve_by_hand``)."""
    setattr(endpoint, _MARK, True)
    return endpoint


def _depends_on_user(dependant: Dependant) -> bool:
    return any(
        sub.call is get_current_user or _depends_on_user(sub) for sub in dependant.dependencies
    )


def needs_user(route: routing.RouteContext) -> bool:
    """Whether ``route`` (an API route as the app serves it, prefixes and the
    dependencies of included routers applied) answers 401 without credentials."""
    return bool(getattr(route.endpoint, _MARK, False)) or _depends_on_user(route.dependant)


def document_security(app: FastAPI, spec: dict[str, Any]) -> dict[str, Any]:
    """Add the schemes to ``spec`` and set every operation's ``security``."""
    private = {
        (route.path_format, method.lower()): needs_user(route)
        for route in routing.iter_route_contexts(app.routes)
        if isinstance(route.original_route, routing.APIRoute) and route.include_in_schema
        for method in route.methods or ()
    }
    for path, methods in spec.get("paths", {}).items():
        for method, operation in methods.items():
            operation["security"] = list(USER_SECURITY) if private[(path, method)] else []
    spec.setdefault("components", {})["securitySchemes"] = SCHEMES
    return spec

"""The service's own public URL (media URLs, ``/i/status`` links, Location).

With ``Settings.public_base_url`` set, that URL, whatever the request came in on (a
TLS-terminating proxy in front speaks https to clients and http to us); unset, the
request's own scheme and host, so a plain-http development server hands out
``http://`` links even in ``media_url_https`` (there is no https URL to give).
"""

from __future__ import annotations

from starlette.requests import Request

__all__ = ["base_url"]


def base_url(request: Request) -> str:
    context = getattr(request.app.state, "context", None)
    configured = context.settings.public_base_url if context is not None else None
    if configured:
        return str(configured).rstrip("/")
    return str(request.base_url).rstrip("/")

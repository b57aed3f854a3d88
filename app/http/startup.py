"""One line, not a traceback, when the app refuses to start.

Starlette turns an exception in the lifespan into ``lifespan.startup.failed`` whose
message is the formatted traceback, and uvicorn logs that message before it exits with
code 3. ``QuietStartupRefusal`` (pure ASGI, lifespan scope only) replaces the message
with the exception's one line when the exception is a ``StartupRefused`` (e.g.
``app.infra.schema.SchemaNotCurrent``: the database is not at the code's head). Any
other start-up failure keeps its traceback.
"""

from __future__ import annotations

import sys

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.infra.schema import SchemaNotCurrent

__all__ = ["REFUSALS", "QuietStartupRefusal"]

# Exceptions that mean "refused, for a reason the line says", not "crashed".
REFUSALS: tuple[type[BaseException], ...] = (SchemaNotCurrent,)


class QuietStartupRefusal:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def send_quietly(message: Message) -> None:
            if message["type"] == "lifespan.startup.failed":
                # Sent from Starlette's ``except`` block: the exception is the one handled.
                exc = sys.exc_info()[1]
                if isinstance(exc, REFUSALS):
                    message = {**message, "message": str(exc)}
            await send(message)

        await self.app(scope, receive, send_quietly)

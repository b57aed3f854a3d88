"""The studio's dependencies: the caller's access to the account in the path, checked
against the action the route performs before the route body runs.

    @router.get("/accounts/{account_id}/media_library")
    async def list_library(access: Annotated[Access, studio_access(Action.READ_LIBRARY)]):
        ...

Every studio query is then scoped by ``access.account.id``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Request

from app.http.deps import CurrentUser, context_of
from app.http.studio.params import AdsParams, read_params
from app.studio.access import Access, load_access, require
from app.studio.permissions import Action

__all__ = ["AccountIdPath", "ParamsDep", "studio_access"]

AccountIdPath = Annotated[str, Path(description="an account id (base36)")]


async def _params(request: Request) -> AdsParams:
    return await read_params(request)


ParamsDep = Annotated[AdsParams, Depends(_params)]
"""The request's parameters, query string and body merged (``params.read_params``)."""


def studio_access(action: Action) -> Any:
    """A dependency giving the caller's ``Access`` to ``{account_id}``: 401 without
    credentials, 403 NOT_FOUND for an account the caller is no member of, 403
    ACTION_NOT_ALLOWED when the member's permissions do not cover ``action``."""

    async def dependency(request: Request, account_id: str, user: CurrentUser) -> Access:
        async with context_of(request).read_sessions() as session:
            access = await load_access(session, account_id=account_id, user_id=user)
        require(access, action)
        return access

    return Depends(dependency)

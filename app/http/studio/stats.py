"""``GET /11/stats/accounts/:account_id``: the Ads API's synchronous stats (§11.1), over
at most 7 days; the numbers are ``app/analytics/stats.py``'s."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from starlette.responses import Response

from app.analytics import stats
from app.analytics.buckets import Granularity
from app.http.deps import ReadSessionDep
from app.http.studio.deps import AccountIdPath, ParamsDep, studio_access
from app.http.studio.envelope import AdsJSONResponse
from app.http.studio.stats_params import StatsLimits, parse_stats
from app.schemas import openapi as oa
from app.studio.access import Access
from app.studio.permissions import Action

__all__ = ["STATS_PARAMETERS", "router", "stats_account"]

router = APIRouter(tags=["studio-analytics"])

SYNC_LIMITS = StatsLimits(days=7)
_TIME = {
    "type": "string",
    "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?$",
    "description": "ISO 8601, whole hours; a date alone is midnight in the account's timezone",
}


def _list_of(choices: tuple[str, ...]) -> dict[str, Any]:
    one = "|".join(choices)
    return {"type": "string", "pattern": f"^({one})(,({one}))*$", "description": "comma list"}


STATS_PARAMETERS = [
    oa.query("entity", {"type": "string", "enum": list(stats.ENTITIES)}, required=True),
    oa.query(
        "entity_ids",
        {"type": "string", "minLength": 1, "description": "comma list, at most 20"},
        required=True,
    ),
    oa.query("start_time", _TIME, required=True),
    oa.query("end_time", {**_TIME, "description": "exclusive; see start_time"}, required=True),
    oa.query(
        "granularity", {"type": "string", "enum": [g.value for g in Granularity]}, required=True
    ),
    oa.query("metric_groups", _list_of(stats.METRIC_GROUPS), required=True),
    oa.query("placement", {"type": "string", "enum": list(stats.PLACEMENTS)}, required=True),
]
_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["data_type", "time_series_length", "data", "request"],
    "properties": {
        "data_type": {"type": "string", "enum": ["stats"]},
        "time_series_length": {"type": "integer"},
        "data": {"type": "array", "items": {"type": "object"}},
        "request": {"type": "object"},
    },
}


def stats_account(access: Access) -> stats.StatsAccount:
    account = access.account
    return stats.StatsAccount(id=account.id, timezone=account.timezone, owner_id=account.owner_id)


@router.get(
    "/stats/accounts/{account_id}",
    operation_id="studio-stats-sync",
    responses={
        200: {
            "description": "the metrics of each entity id of this account, per bucket "
            "(`null`: no data in the whole range)",
            "content": {"application/json": {"schema": _BODY}},
        }
    },
    openapi_extra={"parameters": STATS_PARAMETERS},
)
async def synchronous_stats(
    access: Annotated[Access, studio_access(Action.VIEW_ANALYTICS)],
    params: ParamsDep,
    session: ReadSessionDep,
    account_id: AccountIdPath,
) -> Response:
    """Synchronous analytics (§11.1): `ORGANIC_TWEET` (post ids), `MEDIA_CREATIVE` (library
    media keys) or `ACCOUNT`, with the VIDEO, ENGAGEMENT and MEDIA groups measured (the
    others answer `null`). At most 7 days and 20 ids; whole hours; `DAY` needs midnights
    of the account's timezone."""
    request = parse_stats(params, timezone=access.account.timezone, limits=SYNC_LIMITS)
    body = await stats.compute(session, stats_account(access), request)
    return AdsJSONResponse(body)

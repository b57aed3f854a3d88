"""The Producer's HTTP surface (app/http/v2/live.py and the nginx hook route of
app/http/public/live.py) through the in-process app, on SQLite and PostgreSQL: sources and
broadcasts on gen B and gen C routes, the v2 problem form, studio roles, what nginx
reports and the broadcast timers (without nginx)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.clock import utcnow
from app.live import compat, rules
from tests.conftest import Env, User, create_user
from tests.fixtures.studio import grant
from tests.live.api_support import Live, Members, make_members, problem

ID = re.compile(r"^[a-zA-Z0-9]{1,13}$")
MS = re.compile(r"^[0-9]{13}$")
KEY = re.compile(r"^[a-z0-9]{24}$")


@pytest.fixture
def live(env: Env, engine: AsyncEngine) -> Live:
    return Live(env, engine)


@pytest.fixture
async def members(env: Env, engine: AsyncEngine, alice: User) -> Members:
    return await make_members(engine, alice)


async def test_region_and_tags(live: Live, alice: User) -> None:
    assert await live.ok("GET", "/2/region", alice) == {"region": "us-east-1"}
    tags = await live.ok("GET", "/2/broadcast_tags", alice)
    assert tags == {"data": list(rules.TAGS), "meta": {"max_tags": 2}}
    assert (await live.env.client.get("/2/region")).status_code == 401


# --- sources --------------------------------------------------------------------------


async def test_gen_b_sources(live: Live, alice: User) -> None:
    first = await live.source(alice, name="  Cam 1 ")
    source = await live.source(alice, name="Cam 2", region="us-west-2")
    assert re.fullmatch(r"[0-9]{1,19}", source["id"])
    assert KEY.match(source["stream_key"])
    assert source["id"] != source["stream_key"]
    assert source == {
        "id": source["id"], "owner_id": str(alice.id), "name": "Cam 2", "type": "rtmp",
        "region": "us-west-2", "rtmp_region": "us-west-2",
        "rtmp_url": "rtmp://testserver:1935/x", "rtmps_url": None, "srt_url": None,
        "external_hls_url": None,
        "is_stream_active": False, "is360": False,
        "recommended_configuration": compat.RECOMMENDED,
        "created_at_ms": source["created_at_ms"], "creation_time": source["creation_time"],
        "updated_at_ms": source["created_at_ms"],
        "stream_key": source["stream_key"], "rtmp_stream_key": source["stream_key"],
    }  # fmt: skip
    assert MS.match(source["created_at_ms"])
    assert source["creation_time"] == int(source["created_at_ms"])
    assert first["name"] == "Cam 1"
    base = f"/2/users/{alice.id}/sources"
    one = f"{base}/{source['id']}"

    listed = (await live.ok("GET", base, alice))["sources"]
    assert [s["id"] for s in listed] == [source["id"], first["id"]]
    assert [k for s in listed for k in s if "stream_key" in k] == []
    assert await live.ok("GET", one, alice) == {"source": source}

    renamed = (await live.ok("PUT", one, alice, json={"name": "Cam B"}))["source"]
    assert renamed["name"] == "Cam B"
    assert "stream_key" not in renamed
    await live.refused("PUT", one, alice, 400, "region", json={"name": "x", "region": "eu-west-1"})
    await live.refused("PUT", one, alice, 400, "name", json={"name": " "})
    again = (await live.ok("GET", one, alice))["source"]
    assert (again["name"], again["region"]) == ("Cam B", "us-west-2")

    assert await live.ok("DELETE", one, alice) == {"success": True}
    gone = await live.refused("GET", one, alice, 404)
    assert (gone["resource_type"], gone["resource_id"]) == ("source", source["id"])
    assert [s["id"] for s in (await live.ok("GET", base, alice))["sources"]] == [first["id"]]


async def test_gen_c_sources(live: Live, alice: User) -> None:
    body = {"name": "Desk", "region": "eu-west-1"}
    source = (await live.ok("POST", "/2/sources", alice, json=body, status=201))["data"]
    key = source["stream_key"]
    assert [source[f] for f in ("name", "region", "rtmp_stream_key")] == ["Desk", "eu-west-1", key]
    path = f"/2/sources/{source['id']}"

    listed = await live.ok("GET", "/2/sources", alice)
    assert listed["meta"] == {"result_count": 1}
    assert [s["id"] for s in listed["data"]] == [source["id"]]
    assert "stream_key" not in listed["data"][0]
    shown = (await live.ok("GET", path, alice))["data"]
    assert shown["id"] == source["id"]
    assert "stream_key" not in shown

    patched = await live.ok("PATCH", path, alice, json={"name": "Desk 2"})
    assert patched["data"]["name"] == "Desk 2"
    await live.refused("PATCH", path, alice, 400, "type", json={"type": "hls"})

    keyed = await live.ok("GET", f"{path}/stream_key", alice)
    assert keyed == {"data": {"id": source["id"], "stream_key": key}}
    new_key = (await live.ok("POST", f"{path}/stream_key", alice))["data"]["stream_key"]
    assert KEY.match(new_key)
    assert new_key != key
    assert (await live.ok("GET", f"{path}/stream_key", alice))["data"]["stream_key"] == new_key
    assert (await live.connect(key)).status_code == 403  # the old key is refused
    assert (await live.connect(new_key)).status_code == 302

    as_key = await live.refused("GET", f"/2/sources/{new_key}", alice, 400, "id")
    assert as_key["message"] == "The `id` value is not a source id."
    await live.refused("DELETE", f"/2/sources/{new_key}", alice, 400, "id")
    await live.refused("GET", f"/2/sources/{new_key}/stream_key", alice, 400, "id")

    assert await live.ok("DELETE", path, alice) == {"data": {"deleted": True}}
    missing = await live.refused("GET", path, alice, 404)
    assert (missing["resource_type"], missing["resource_id"]) == ("source", source["id"])
    assert await live.ok("GET", "/2/sources", alice) == {"data": [], "meta": {"result_count": 0}}


async def test_hls_source(live: Live, alice: User) -> None:
    url = "https://cdn.example.org/live/index.m3u8"
    source = await live.source(alice, type="hls", external_hls_url=url)
    assert (source["type"], source["external_hls_url"]) == ("hls", url)
    assert (source["rtmp_url"], source["rtmps_url"]) == (None, None)
    assert "stream_key" not in source
    await live.refused("POST", f"/2/sources/{source['id']}/stream_key", alice, 400, "id")


SOURCE_ERRORS = [
    ({"region": "eu-central-1"}, "name"),
    ({"name": "", "region": "eu-central-1"}, "name"),
    ({"name": "a" * 101, "region": "eu-central-1"}, "name"),
    ({"name": "A"}, "region"),
    ({"name": "A", "region": "mars-1"}, "region"),
    ({"name": "A", "region": "eu-central-1", "color": "red"}, "color"),
    ({"name": "A", "region": "eu-central-1", "type": "srt"}, "type"),
    ({"name": "A", "region": "eu-central-1", "type": "hls"}, "external_hls_url"),
    ({"name": "A", "region": "us-east-1", "type": "hls", "external_hls_url": "ftp://x/a"},
     "external_hls_url"),
    ({"name": "A", "region": "us-east-1", "external_hls_url": "https://x/a.m3u8"},
     "external_hls_url"),
]  # fmt: skip


@pytest.mark.parametrize("gen", ["B", "C"])
@pytest.mark.parametrize(("body", "parameter"), SOURCE_ERRORS)
async def test_source_refused(
    live: Live, alice: User, gen: str, body: dict[str, Any], parameter: str
) -> None:
    path = f"/2/users/{alice.id}/sources" if gen == "B" else "/2/sources"
    await live.refused("POST", path, alice, 400, parameter, json=body)
    assert (await live.ok("GET", "/2/sources", alice))["meta"]["result_count"] == 0


async def test_someone_elses_sources(live: Live, alice: User, bob: User) -> None:
    source = await live.source(alice)
    users = f"/2/users/{alice.id}/sources"
    await live.refused(
        "POST", users, bob, 400, "user_id", json={"name": "x", "region": "us-east-1"}
    )
    await live.refused("GET", users, bob, 400, "user_id")
    # alice's source under bob's own user id is not found, nor on gen C
    await live.refused("GET", f"/2/users/{bob.id}/sources/{source['id']}", bob, 404)
    for method in ("GET", "PATCH", "DELETE"):
        await live.refused(method, f"/2/sources/{source['id']}", bob, 404, json={"name": "x"})
    await live.refused("GET", f"/2/sources/{source['id']}/stream_key", bob, 404)
    unknown = await live.refused("GET", "/2/sources/123456789", alice, 404)
    assert unknown["resource_id"] == "123456789"
    assert (await live.source_row(source["id"])).name == "Studio A encoder"


# --- broadcasts -----------------------------------------------------------------------


async def test_create_broadcast(live: Live, alice: User) -> None:
    source = await live.source(alice)
    created = await live.broadcast(
        alice, source["id"], title="Evening news", tags=["news", "Politics"], chat_option=1,
        no_hearts=True, is_low_latency=True, region="eu-central-1",
    )  # fmt: skip
    b = created["broadcast"]
    assert ID.match(b["id"])
    assert b["broadcast_id"] == b["id"]
    assert re.fullmatch(r"28_[0-9]+", b["media_key"])
    assert b["media_key"] == f"28_{b['media_id']}"
    expected = {
        "state": "NOT_STARTED", "title": "Evening news", "status": "Evening news",
        "tags": ["news", "politics"], "source_id": source["id"], "region": "eu-central-1",
        "chat_option": 1, "no_hearts": True, "is_low_latency": True, "is_high_latency": False,
        "language": "en", "broadcast_source": "producer", "twitter_user_id": str(alice.id),
        "user_id": str(alice.id), "start_ms": None, "end_ms": None, "total_watching": "0",
        "total_watched": "0", "is_stream_active": False, "available_for_replay": False,
        "share_url": f"http://testserver/i/broadcasts/{b['id']}",
    }  # fmt: skip
    assert {k: b[k] for k in expected} == expected
    assert MS.match(b["created_at_ms"])
    assert b["recording"]["state"] == "none"
    assert created["share_url"] == b["share_url"]
    access = created["video_access"]
    url = access["hls_url"]
    assert re.fullmatch(
        rf"http://testserver/live/{b['id']}/index\.m3u8\?t=[A-Za-z0-9_-]{{8,64}}", url
    )
    assert access == {"hls_url": url, "https_hls_url": url, "lhls_url": url}
    bound = await live.ok("GET", f"/2/users/{alice.id}/sources/{source['id']}", alice)
    assert bound["source"]["broadcast_id"] == b["id"]

    assert await live.ok("GET", f"/2/users/{alice.id}/broadcasts/{b['id']}", alice) == created
    gen_c = await live.ok("GET", f"/2/broadcasts/{b['id']}", alice)
    assert gen_c == {"data": {**b, "video_access": access}}

    plain = (await live.broadcast(alice, (await live.source(alice))["id"]))["broadcast"]
    fields = ("title", "tags", "chat_option", "no_hearts", "is_low_latency", "is_high_latency")
    assert [plain[f] for f in fields] == ["", [], 2, False, False, True]
    high = (await live.ok("GET", f"/2/broadcasts/{plain['id']}", alice))["data"]
    assert set(high["video_access"]) == {"hls_url", "https_hls_url"}


BROADCAST_ERRORS = [
    ({"tags": ["news", "sports", "music"]}, "tags"),
    ({"tags": ["cooking"]}, "tags"),
    ({"tags": "news"}, "tags"),
    ({"chat_option": 7}, "chat_option"),
    ({"chat_option": -1}, "chat_option"),
    ({"chat_option": True}, "chat_option"),
    ({"chat_option": 2, "chat_disabled": True}, "chat_disabled"),
    ({"no_hearts": "yes"}, "no_hearts"),
    ({"region": "us-east-1"}, "region"),  # the source is in eu-central-1
    ({"title": "t" * 281}, "title"),
    ({"latency_mode": "medium"}, "latency_mode"),
    ({"latency_mode": "low", "is_low_latency": False}, "latency_mode"),
    ({"should_not_tweet": True}, "should_not_tweet"),
    ({"source_id": None}, "source_id"),
]


@pytest.mark.parametrize(("body", "parameter"), BROADCAST_ERRORS)
async def test_broadcast_refused(
    live: Live, alice: User, body: dict[str, Any], parameter: str
) -> None:
    source = await live.source(alice)
    path = f"/2/users/{alice.id}/broadcasts"
    await live.refused(
        "POST", path, alice, 400, parameter, json={"source_id": source["id"], **body}
    )
    assert (await live.ok("GET", "/2/broadcasts", alice))["meta"]["result_count"] == 0


async def test_broadcast_on_unknown_or_foreign_source(live: Live, alice: User, bob: User) -> None:
    for source_id in ("987654321", (await live.source(bob))["id"]):
        missing = await live.refused(
            "POST", f"/2/users/{alice.id}/broadcasts", alice, 404, json={"source_id": source_id}
        )
        assert (missing["resource_type"], missing["resource_id"]) == ("source", source_id)


async def test_one_active_broadcast_per_source(live: Live, alice: User) -> None:
    source = await live.source(alice)
    first = (await live.broadcast(alice, source["id"]))["broadcast"]
    path = f"/2/users/{alice.id}/broadcasts"
    await live.refused("POST", path, alice, 409, json={"source_id": source["id"]})
    await live.ok("DELETE", f"{path}/{first['id']}", alice)
    assert (await live.broadcast(alice, source["id"]))["broadcast"]["state"] == "NOT_STARTED"


async def test_state_changes_refused(live: Live, alice: User) -> None:
    source = await live.source(alice)
    b = (await live.broadcast(alice, source["id"]))["broadcast"]
    no_video = problem(await live.state(alice, b["id"], state="PUBLISH"), 409)
    assert "not receiving video" in no_video["message"]
    problem(await live.state(alice, b["id"], state="END"), 400, "state")
    problem(await live.state(alice, b["id"], state="END", title="x"), 400, "title")
    problem(await live.state(alice, b["id"], state="PUBLISH", color="red"), 400, "color")
    problem(await live.state(alice, b["id"], state="GO"), 400, "state")
    problem(await live.state(alice, b["id"], state="PUBLISH", chat_option=9), 400, "chat_option")
    gen_c = f"/2/broadcasts/{b['id']}/state"
    await live.refused("PUT", gen_c, alice, 400, "state", json={"state": "PUBLISH"})
    await live.refused("PUT", gen_c, alice, 400, "state", json={"state": "END"})
    missing = problem(await live.state(alice, "nosuchthing1", state="END"), 404)
    assert (missing["resource_type"], missing["resource_id"]) == ("broadcast", "nosuchthing1")
    assert (await live.broadcast_row(b["id"])).state == "NOT_STARTED"

    assert (await live.connect(source["stream_key"])).status_code == 302
    assert (await live.state(alice, b["id"], state="PUBLISH")).status_code == 200
    problem(await live.state(alice, b["id"], state="PUBLISH"), 400, "state")
    await live.refused("PUT", gen_c, alice, 400, "title", json={"state": "END", "title": "x"})
    ended = await live.ok("PUT", gen_c, alice, json={"state": "END"})
    assert ended == {"data": {"id": b["id"], "state": "ENDED"}}
    problem(await live.state(alice, b["id"], state="END"), 400, "state")


async def test_delete_source_and_broadcasts(live: Live, alice: User) -> None:
    source = await live.source(alice)
    src = f"/2/users/{alice.id}/sources/{source['id']}"
    b = (await live.broadcast(alice, source["id"]))["broadcast"]
    await live.refused("DELETE", src, alice, 400, "id")
    await live.refused("DELETE", f"/2/sources/{source['id']}", alice, 400, "id")

    gen_b = f"/2/users/{alice.id}/broadcasts/{b['id']}"
    assert await live.ok("DELETE", gen_b, alice) == {"success": True}
    await live.refused("GET", gen_b, alice, 404)
    await live.refused("GET", f"/2/broadcasts/{b['id']}", alice, 404)
    assert "broadcast_id" not in (await live.ok("GET", src, alice))["source"]

    running = (await live.broadcast(alice, source["id"]))["broadcast"]
    assert (await live.connect(source["stream_key"])).status_code == 302
    assert (await live.state(alice, running["id"], state="PUBLISH")).status_code == 200
    gone = await live.ok("DELETE", f"/2/broadcasts/{running['id']}", alice)
    assert gone == {"data": {"deleted": True}}
    await live.refused("GET", f"/2/broadcasts/{running['id']}", alice, 404)

    ended = (await live.broadcast(alice, source["id"]))["broadcast"]
    await live.state(alice, ended["id"], state="PUBLISH")
    assert (await live.state(alice, ended["id"], state="END")).json() == {"success": True}
    # its encoder has not reported the recording yet: deleting now would lose it
    await live.refused("DELETE", src, alice, 400, "id")
    await live.disconnect(source["stream_key"])
    recording = live.recording("last.flv")
    await live.hook("record_done", clientid="7", path=str(recording))
    assert [j.payload["files"] for j in await live.jobs()] == [["last.flv"]]
    assert await live.ok("DELETE", src, alice) == {"success": True}
    kept = (await live.ok("GET", f"/2/broadcasts/{ended['id']}", alice))["data"]
    assert (kept["state"], kept["source_id"]) == ("ENDED", None)
    assert kept["recording"]["state"] == "queued"
    assert recording.exists()


async def test_encoder_before_the_broadcast(live: Live, alice: User) -> None:
    source = await live.source(alice)
    assert (await live.connect(source["stream_key"])).status_code == 302
    b = (await live.broadcast(alice, source["id"]))["broadcast"]
    assert b["is_stream_active"] is True
    published = await live.state(
        alice, b["id"], state="PUBLISH", tags=["Music"], chat_disabled=True, no_hearts=True,
        locale="fr_FR",
    )  # fmt: skip
    on_air = published.json()["broadcast"]
    fields = ("tags", "chat_option", "no_hearts", "locale", "language")
    assert [on_air[f] for f in fields] == [["music"], 1, True, "fr_FR", "fr"]
    await live.state(alice, b["id"], state="END")
    await live.disconnect(source["stream_key"])
    await live.hook("record_done", clientid="7", path=str(live.recording("early.flv")))
    assert [j.payload["files"] for j in await live.jobs()] == [["early.flv"]]


async def test_broadcast_lists(live: Live, alice: User, bob: User) -> None:
    # three broadcasts within one millisecond: paging must still find each once
    base = utcnow().replace(microsecond=100_000)
    live.clock([base + timedelta(microseconds=100 * i) for i in range(12)])
    made = []
    for _ in range(3):
        source = await live.source(alice)
        made.append((await live.broadcast(alice, source["id"]))["broadcast"]["id"])
    await live.broadcast(bob, (await live.source(bob))["id"])
    newest_first = made[::-1]

    gen_b = await live.ok("GET", f"/2/users/{alice.id}/broadcasts", alice)
    assert set(gen_b) == {"broadcasts"}
    assert [b["id"] for b in gen_b["broadcasts"]] == newest_first
    await live.refused("GET", f"/2/users/{alice.id}/broadcasts", bob, 400, "user_id")

    own = await live.ok("GET", "/2/broadcasts", alice)
    assert [b["id"] for b in own["data"]] == newest_first
    assert own["meta"] == {"result_count": 3}
    seen: list[str] = []
    paging: dict[str, Any] = {"max_results": 1}
    for _ in range(3):
        page = await live.ok("GET", "/2/broadcasts", alice, **paging)
        assert page["meta"]["result_count"] == 1
        seen += [b["id"] for b in page["data"]]
        paging["pagination_token"] = page["meta"].get("next_token")
    assert seen == newest_first
    assert paging["pagination_token"] is None
    await live.refused(
        "GET", "/2/broadcasts", alice, 400, "pagination_token", pagination_token="bm90YXRva2Vu"
    )

    ids = ",".join([made[0], "zzzzzzzzzzzz", made[2]])
    found = await live.ok("GET", "/2/broadcasts", alice, ids=ids)
    assert [b["id"] for b in found["data"]] == [made[0], made[2]]
    assert found["meta"] == {"result_count": 2}
    assert found["errors"] == [
        {
            "value": "zzzzzzzzzzzz", "detail": "Could not find broadcast with id: [zzzzzzzzzzzz].",
            "title": "Not Found Error", "resource_type": "broadcast", "parameter": "ids",
            "resource_id": "zzzzzzzzzzzz",
            "type": "https://api.twitter.com/2/problems/resource-not-found",
        }
    ]  # fmt: skip
    hidden = await live.ok("GET", "/2/broadcasts", bob, ids=made[1])
    assert (hidden["data"], hidden["errors"][0]["resource_id"]) == ([], made[1])
    problem(await live.call("GET", "/2/broadcasts", alice, ids="a,b!"), 400, "ids", coded=False)


# --- roles ----------------------------------------------------------------------------


async def test_full_member_acts_for_the_owner(live: Live, members: Members, alice: User) -> None:
    full = members.full
    source = await live.source(full, owner=alice)
    assert source["owner_id"] == str(alice.id)
    assert KEY.match(source["stream_key"])
    b = (await live.broadcast(full, source["id"], owner=alice, title="Team"))["broadcast"]
    assert b["twitter_user_id"] == str(alice.id)
    assert (await live.connect(source["stream_key"])).status_code == 302
    published = await live.state(full, b["id"], owner=alice, state="PUBLISH")
    assert (published.status_code, published.json()["broadcast"]["state"]) == (200, "RUNNING")
    keyed = await live.ok("GET", f"/2/sources/{source['id']}/stream_key", full)
    assert keyed["data"]["stream_key"] == source["stream_key"]
    one = await live.ok("GET", f"/2/users/{alice.id}/sources/{source['id']}", full)
    assert one["source"]["stream_key"] == source["stream_key"]
    # the owner's own lists show what the member made; the member's own lists do not
    assert [s["id"] for s in (await live.ok("GET", "/2/sources", alice))["data"]] == [source["id"]]
    assert (await live.ok("GET", "/2/broadcasts", full))["meta"]["result_count"] == 0
    assert (await live.state(full, b["id"], owner=alice, state="END")).json() == {"success": True}


async def test_limited_member_only_views(live: Live, members: Members, alice: User) -> None:
    limited = members.limited
    source = await live.source(alice)
    b = (await live.broadcast(alice, source["id"]))["broadcast"]
    users = f"/2/users/{alice.id}"
    listed = await live.ok("GET", f"{users}/sources", limited)
    assert [s["id"] for s in listed["sources"]] == [source["id"]]
    one = (await live.ok("GET", f"{users}/sources/{source['id']}", limited))["source"]
    assert one["id"] == source["id"]
    assert [k for k in one if "stream_key" in k] == []
    assert (await live.ok("GET", f"/2/sources/{source['id']}", limited))["data"] == one
    broadcasts = (await live.ok("GET", f"{users}/broadcasts", limited))["broadcasts"]
    assert [x["id"] for x in broadcasts] == [b["id"]]
    assert (await live.ok("GET", f"/2/broadcasts/{b['id']}", limited))["data"]["id"] == b["id"]
    by_ids = await live.ok("GET", "/2/broadcasts", limited, ids=b["id"])
    assert [x["id"] for x in by_ids["data"]] == [b["id"]]
    refused = [
        ("POST", f"{users}/sources", {"name": "x", "region": "us-east-1"}),
        ("PUT", f"{users}/sources/{source['id']}", {"name": "x"}),
        ("DELETE", f"{users}/sources/{source['id']}", None),
        ("POST", f"{users}/broadcasts", {"source_id": source["id"]}),
        ("PUT", f"{users}/broadcasts/{b['id']}/state", {"state": "PUBLISH"}),
        ("DELETE", f"{users}/broadcasts/{b['id']}", None),
        ("PATCH", f"/2/sources/{source['id']}", {"name": "x"}),
        ("DELETE", f"/2/sources/{source['id']}", None),
        ("GET", f"/2/sources/{source['id']}/stream_key", None),
        ("POST", f"/2/sources/{source['id']}/stream_key", None),
        ("PUT", f"/2/broadcasts/{b['id']}/state", {"state": "END"}),
        ("DELETE", f"/2/broadcasts/{b['id']}", None),
    ]
    for method, path, body in refused:
        await live.refused(method, path, limited, 403, json=body)
    row = await live.source_row(source["id"])
    assert (row.name, row.stream_key) == ("Studio A encoder", source["stream_key"])
    assert (await live.broadcast_row(b["id"])).state == "NOT_STARTED"


async def test_member_without_live_permission(
    live: Live, members: Members, engine: AsyncEngine, alice: User
) -> None:
    analyst = await create_user(engine, "analyst")
    await grant(engine, members.account_id, analyst.id, permissions=["ANALYST"])
    b = (await live.broadcast(alice, (await live.source(alice))["id"]))["broadcast"]
    await live.refused("GET", f"/2/users/{alice.id}/sources", analyst, 403)
    await live.refused("GET", f"/2/broadcasts/{b['id']}", analyst, 403)
    # a lookup by ids lists it as not found rather than refusing the whole request
    found = await live.ok("GET", "/2/broadcasts", analyst, ids=b["id"])
    assert (found["data"], found["errors"][0]["resource_id"]) == ([], b["id"])


async def test_non_member(live: Live, members: Members, alice: User) -> None:
    outsider = members.outsider
    source = await live.source(alice)
    b = (await live.broadcast(alice, source["id"]))["broadcast"]
    await live.refused("GET", f"/2/users/{alice.id}/sources", outsider, 400, "user_id")
    path = f"/2/users/{alice.id}/broadcasts/{b['id']}"
    await live.refused("GET", path, outsider, 400, "user_id")
    await live.refused("GET", f"/2/sources/{source['id']}", outsider, 404)
    await live.refused("GET", f"/2/broadcasts/{b['id']}", outsider, 404)
    await live.refused("DELETE", f"/2/broadcasts/{b['id']}", outsider, 404)
    nothing = {"data": [], "meta": {"result_count": 0}}
    assert await live.ok("GET", "/2/broadcasts", outsider) == nothing


# --- what nginx reports ---------------------------------------------------------------


async def test_hook_secret_and_loopback(live: Live, alice: User) -> None:
    key = (await live.source(alice))["stream_key"]
    assert (await live.hook("publish", secret="wrong", name=key)).status_code == 403
    assert (await live.hook("publish", secret="", name=key)).status_code == 403
    transport = ASGITransport(app=live.env.app, client=("10.1.2.3", 1234))
    async with AsyncClient(transport=transport, base_url="http://testserver") as remote:
        answer = await remote.post(
            "/internal/live/publish", params={"secret": live.files.hook_secret()},
            data={"call": "publish", "name": key, "clientid": "7"},
        )  # fmt: skip
    assert answer.status_code == 403
    assert (await live.hook("nonsense")).status_code == 404
    assert (await live.connect(key)).status_code == 302  # the loopback client, good secret


async def test_encoder_to_recording_job(live: Live, alice: User) -> None:
    source = await live.source(alice)
    key = source["stream_key"]
    b = (await live.broadcast(alice, source["id"], title="Show"))["broadcast"]
    assert (await live.connect("0" * 24)).status_code == 403  # unknown key

    accepted = await live.connect(key)
    assert accepted.status_code == 302
    row = await live.source_row(source["id"])
    assert (accepted.headers["location"], row.is_stream_active) == (row.live_name, True)
    assert (await live.connect(key, client_id="8")).status_code == 403  # a second encoder
    assert (await live.ok("GET", f"/2/broadcasts/{b['id']}", alice))["data"]["is_stream_active"]

    published = await live.state(
        alice, b["id"], state="PUBLISH", title="Now live", should_not_tweet=True, chat_option=3
    )
    running = published.json()["broadcast"]
    assert [running[f] for f in ("state", "status", "chat_option", "end_ms")] == [
        "RUNNING", "Now live", 3, None,
    ]  # fmt: skip
    assert MS.match(running["start_ms"])

    assert (await live.disconnect(key)).status_code == 200
    assert not (await live.source_row(source["id"])).is_stream_active
    lost = await live.broadcast_row(b["id"])
    assert (lost.state, lost.ingest_lost_at is not None) == ("RUNNING", True)

    assert (await live.connect(key, client_id="8")).status_code == 302  # reconnects
    assert (await live.source_row(source["id"])).is_stream_active
    back = await live.broadcast_row(b["id"])
    assert (back.state, back.ingest_lost_at) == ("RUNNING", None)
    bound = await live.ok("GET", f"/2/sources/{source['id']}", alice)
    assert bound["data"]["broadcast_id"] == b["id"]

    first = live.recording("s1-1.flv")
    done = await live.hook("record_done", clientid="7", name=key, path=str(first))
    assert (done.status_code, first.exists()) == (200, True)

    ended = await live.state(alice, b["id"], state="END")
    assert (ended.status_code, ended.json()) == (200, {"success": True})
    after = (await live.ok("GET", f"/2/broadcasts/{b['id']}", alice))["data"]
    assert (after["state"], after["recording"]["state"]) == ("ENDED", "waiting")
    assert MS.match(after["end_ms"])
    assert await live.jobs() == []  # the second connection has not reported its file yet

    assert (await live.disconnect(key, client_id="8")).status_code == 200
    second = live.recording("s1-2.flv")
    await live.hook("record_done", clientid="8", name=key, path=str(second))
    [job] = await live.jobs()
    assert {k: v for k, v in job.payload.items() if k != "request_id"} == {
        "broadcast_id": b["id"], "user_id": alice.id, "title": "Now live",
        "files": ["s1-1.flv", "s1-2.flv"],
    }  # fmt: skip
    assert (first.exists(), second.exists()) == (True, True)
    assert (await live.broadcast_row(b["id"])).recording_state == "queued"


async def test_recordings_without_a_broadcast_go(live: Live, alice: User) -> None:
    key = (await live.source(alice))["stream_key"]
    assert (await live.connect(key, client_id="9")).status_code == 302
    assert (await live.disconnect(key, client_id="9")).status_code == 200
    outside = live.env.data_dir / "elsewhere.flv"
    outside.write_bytes(b"FLV")
    await live.hook("record_done", clientid="9", path=str(outside))
    assert outside.exists()  # not in nginx's folder: never touched
    preview = live.recording("preview.flv")
    assert (await live.hook("record_done", clientid="9", path=str(preview))).status_code == 200
    assert not preview.exists()
    assert await live.jobs() == []


# --- timers ---------------------------------------------------------------------------


async def test_never_published_times_out(live: Live, alice: User) -> None:
    source = await live.source(alice)
    b = (await live.broadcast(alice, source["id"]))["broadcast"]
    timeout = live.env.state.settings.live.publish_timeout_secs
    await live.monitor().expire(utcnow() + timedelta(seconds=timeout - 60))
    assert (await live.broadcast_row(b["id"])).state == "NOT_STARTED"
    await live.monitor().expire(utcnow() + timedelta(seconds=timeout + 1))
    row = await live.broadcast_row(b["id"])
    assert (row.state, row.recording_state) == ("TIMED_OUT", "discarded")
    data = (await live.ok("GET", f"/2/broadcasts/{b['id']}", alice))["data"]
    assert (data["state"], data["video_access"]) == ("TIMED_OUT", {})
    assert MS.match(data["end_ms"])
    assert (await live.broadcast(alice, source["id"]))["broadcast"]["state"] == "NOT_STARTED"


async def test_lost_ingest_ends_after_the_reconnect_window(live: Live, alice: User) -> None:
    window = live.env.state.settings.live.reconnect_window_secs
    source, b = await live.on_air(alice)
    await live.disconnect(source["stream_key"])
    lost_at = (await live.broadcast_row(b["id"])).ingest_lost_at
    assert lost_at is not None

    await live.monitor().expire(lost_at + timedelta(seconds=window - 5))
    assert (await live.broadcast_row(b["id"])).state == "RUNNING"
    await live.monitor().expire(lost_at + timedelta(seconds=window + 1))
    row = await live.broadcast_row(b["id"])
    assert (row.state, row.recording_state) == ("ENDED", "waiting")
    assert row.ended_at == lost_at + timedelta(seconds=window + 1)


async def test_connected_running_broadcast_never_expires(live: Live, alice: User) -> None:
    _, b = await live.on_air(alice)
    await live.monitor().expire(utcnow() + timedelta(days=2))
    assert (await live.broadcast_row(b["id"])).state == "RUNNING"


async def test_racing_creates_on_one_source_give_one_broadcast(live: Live, alice: User) -> None:
    """The partial unique index holds the one-active-broadcast rule even when both
    creates pass the check before either commits."""
    import asyncio

    source = await live.source(alice)
    path = f"/2/users/{alice.id}/broadcasts"
    answers = await asyncio.gather(
        *(live.call("POST", path, alice, json={"source_id": source["id"]}) for _ in range(4))
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 409, 409, 409], [a.text for a in answers]
    listed = await live.ok("GET", path, alice)
    assert len(listed["broadcasts"]) == 1


async def test_an_ended_broadcast_left_waiting_is_queued_by_the_monitor(
    live: Live, alice: User
) -> None:
    """END and the last publish_done committing side by side can each miss the other's
    change: the broadcast is ENDED, every ingest reported, and nothing queued. The
    monitor's next look queues the recording, once."""
    from sqlalchemy import update

    from app.models import LiveBroadcast

    source, broadcast = await live.on_air(alice)
    name = live.recording("sraced-1.flv").name
    recorded = await live.hook(
        "record_done", name=source["stream_key"], path=str(live.files.recordings / name)
    )
    assert recorded.status_code == 200
    assert (await live.disconnect(source["stream_key"])).status_code == 200
    async with live.env.state.sessions() as session:  # END as it commits in the race
        await session.execute(
            update(LiveBroadcast)
            .where(LiveBroadcast.id == broadcast["id"])
            .values(state="ENDED", recording_state="waiting", ended_at=utcnow())
        )
        await session.commit()
    assert await live.jobs() == []
    monitor = live.monitor()
    await monitor.settle_recordings(utcnow())
    await monitor.settle_recordings(utcnow())
    jobs = await live.jobs()
    assert len(jobs) == 1
    assert jobs[0].payload["files"] == [name]
    assert (await live.broadcast_row(broadcast["id"])).recording_state == "queued"

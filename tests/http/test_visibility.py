"""Who sees what: every lookup x every object type x every actor, on both databases.

One world per database (uploads, a post, a DM, a subtitle track, made through the real
protocol and processed by the real worker); each case is one request. A case an actor
may not see must answer exactly what the same lookup answers for ids never issued
(status and body, the ids aside), so a forbidden object cannot be told from a missing
one. A new lookup is one ``Lookup(...)`` line in ``LOOKUPS``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.jobs.runner import Runner
from app.main import create_app
from app.media.lookup import load_audiences, visible_to
from app.media.visibility import may_see
from app.models import Media
from tests.conftest import User, _truncate, create_user, make_settings
from tests.fixtures.entities import post_status
from tests.fixtures.protocol import append, finalize, init, status

Headers = dict[str, str]
ACTORS = ("owner", "co_owner", "recipient", "stranger", "nobody")
SIGNED_IN = frozenset(ACTORS) - {"nobody"}
OWNER = frozenset({"owner"})
DM_PARTICIPANTS = frozenset({"owner", "recipient"})  # the owner sent the DM
SRT = "1\n00:00:00,000 --> 00:00:01,500\nHello\n"


@dataclass(frozen=True)
class Obj:
    media_id: str = ""
    media_key: str = ""
    post_id: str = ""
    dm_id: str = ""
    dm_path: str = ""  # the DM's private file URL
    user_id: str = ""

    def normal(self, response: Response) -> str:
        """The body with this object's ids replaced by their names."""
        text = response.text
        for name in ("dm_path", "media_key", "post_id", "dm_id", "media_id", "user_id"):
            value = getattr(self, name)
            if value:
                text = text.replace(value, f"<{name}>")
        return text


@dataclass
class World:
    app: FastAPI
    client: AsyncClient
    headers: dict[str, Headers]
    users: dict[str, User]
    objects: dict[str, Obj]
    ghosts: dict[str, Obj]
    subtitle_id: str
    posts_made: int = 0


# Objects, and who may see each one under app/media/visibility.py.
SEES = {
    "photo": frozenset({"owner", "co_owner"}),
    "gif": frozenset({"owner", "co_owner"}),
    "video": frozenset({"owner", "co_owner"}),
    "posted photo": SIGNED_IN,
    "dm photo": DM_PARTICIPANTS,
    "subtitle track": frozenset(),  # no media object of its own: found for nobody
}
MEDIA = tuple(SEES)
Probe = Callable[[World, Headers, Obj], Awaitable[Response]]


@dataclass(frozen=True)
class Lookup:
    name: str
    probe: Probe
    seen: Callable[[Response, Obj], bool] | None  # what those let through get (None:
    # anything but what an id never issued gets)
    objects: tuple[str, ...]
    audience: Callable[[str], frozenset[str]]  # object -> actors let through
    refused: Callable[[Response], bool] | None = None  # default: as for ids never issued


def _polled(obj: str) -> frozenset[str]:
    """STATUS answers only for media processed after FINALIZE; images need no polling
    and answer 404 to everyone, their owner too (as on Twitter)."""
    return OWNER if obj in ("gif", "video") else frozenset()


def _only(actors: frozenset[str]) -> Callable[[str], frozenset[str]]:
    return lambda _: actors


def _ok(response: Response, status_code: int = 200) -> bool:
    return response.status_code == status_code


async def _v11_append(w: World, h: Headers, o: Obj) -> Response:
    return await append(w.client, h, o.media_id, 0, b"x")


async def _v2_append(w: World, h: Headers, o: Obj) -> Response:
    return await w.client.post(
        f"/2/media/upload/{o.media_id}/append", data={"segment_index": "0"},
        files={"media": ("blob", b"x", "application/octet-stream")}, headers=h,
    )  # fmt: skip


def _subtitles_v11(o: Obj, subtitle_id: str) -> dict[str, object]:
    track = {"media_id": subtitle_id, "language_code": "en", "display_name": "English"}
    return {"media_id": o.media_id, "subtitle_info": {"subtitles": [track]}}


async def _subtitles_create(w: World, h: Headers, o: Obj) -> Response:
    body = _subtitles_v11(o, w.subtitle_id)
    return await w.client.post("/1.1/media/subtitles/create.json", json=body, headers=h)


async def _subtitles_create_v2(w: World, h: Headers, o: Obj) -> Response:
    body = {"id": o.media_id, "subtitles": {"id": w.subtitle_id, "language_code": "en"}}
    return await w.client.post("/2/media/subtitles", json=body, headers=h)


async def _subtitles_delete(w: World, h: Headers, o: Obj) -> Response:
    body = _subtitles_v11(o, w.subtitle_id)
    response = await w.client.post("/1.1/media/subtitles/delete.json", json=body, headers=h)
    if response.status_code == 204:  # put the track back for the cases that follow
        await _subtitles_create(w, w.headers["owner"], o)
    return response


async def _subtitles_delete_v2(w: World, h: Headers, o: Obj) -> Response:
    body = {"id": o.media_id, "language_code": "en"}
    response = await w.client.request("DELETE", "/2/media/subtitles", json=body, headers=h)
    if response.status_code == 200:
        await _subtitles_create(w, w.headers["owner"], o)
    return response


async def _fresh_post(w: World) -> str:
    """A post of the owner's to delete (a new text each time: no duplicate refusal)."""
    w.posts_made += 1
    posted = await post_status(w.client, w.headers["owner"], f"to delete {w.posts_made}", [])
    return str(posted.json()["id_str"])


async def _destroy(w: World, h: Headers, o: Obj) -> Response:
    post_id = await _fresh_post(w) if o.post_id == w.objects["post"].post_id else o.post_id
    return await w.client.post(f"/1.1/statuses/destroy/{post_id}.json", headers=h)


async def _destroy_v2(w: World, h: Headers, o: Obj) -> Response:
    post_id = await _fresh_post(w) if o.post_id == w.objects["post"].post_id else o.post_id
    return await w.client.delete(f"/2/tweets/{post_id}", headers=h)


def _key(r: Response, o: Obj) -> bool:
    return _ok(r) and r.json()["data"]["media_key"] == o.media_key


def _first_key(r: Response, o: Obj) -> bool:
    return _ok(r) and [m["media_key"] for m in r.json()["data"]] == [o.media_key]


def _status(r: Response, o: Obj) -> bool:
    return _ok(r) and r.json()["media_id_string"] == o.media_id


def _finalized(r: Response, o: Obj) -> bool:
    return r.status_code in (200, 201) and r.json()["media_id_string"] == o.media_id


def _v2_status(r: Response, o: Obj) -> bool:
    return _ok(r) and r.json()["data"]["id"] == o.media_id


def _tweet(r: Response, o: Obj) -> bool:
    body = r.json()
    data = body["data"][0] if isinstance(body.get("data"), list) else body.get("data", {})
    return (
        _ok(r)
        and data["id"] == o.post_id
        and body["includes"]["media"][0]["media_key"] == (o.media_key)
    )


def _forbidden(r: Response) -> bool:
    return r.status_code == 403  # posts are public: refusing says nothing new


T = "?expansions=attachments.media_keys"


def _alt(o: Obj) -> dict[str, object]:
    return {"media_id": o.media_id, "alt_text": {"text": "a"}}


def _alt_v2(o: Obj) -> dict[str, object]:
    return {"id": o.media_id, "metadata": {"alt_text": {"text": "a"}}}


# fmt: off
LOOKUPS = [  # name, request, what the let-through see, objects, who is let through[, refusal]
    Lookup("v2 media/{key}", lambda w, h, o: w.client.get(f"/2/media/{o.media_key}", headers=h), _key, MEDIA, SEES.__getitem__),  # noqa: E501
    Lookup("v2 media?media_keys", lambda w, h, o: w.client.get("/2/media", params={"media_keys": o.media_key}, headers=h), _first_key, MEDIA, SEES.__getitem__),  # noqa: E501
    Lookup("v1.1 STATUS", lambda w, h, o: status(w.client, h, o.media_id), _status, MEDIA, _polled),
    Lookup("v2 STATUS", lambda w, h, o: w.client.get("/2/media/upload", params={"media_id": o.media_id}, headers=h), _v2_status, MEDIA, _polled),  # noqa: E501
    Lookup("v1.1 APPEND", _v11_append, None, MEDIA, _only(OWNER)),
    Lookup("v2 append", _v2_append, None, MEDIA, _only(OWNER)),
    Lookup("v1.1 FINALIZE", lambda w, h, o: finalize(w.client, h, o.media_id), _finalized, MEDIA, _only(OWNER)),  # noqa: E501
    Lookup("v2 finalize", lambda w, h, o: w.client.post(f"/2/media/upload/{o.media_id}/finalize", headers=h), _v2_status, MEDIA, _only(OWNER)),  # noqa: E501
    Lookup("v1.1 metadata/create", lambda w, h, o: w.client.post("/1.1/media/metadata/create.json", json=_alt(o), headers=h), lambda r, o: _ok(r, 204), MEDIA, _only(OWNER)),  # noqa: E501
    Lookup("v2 media/metadata", lambda w, h, o: w.client.post("/2/media/metadata", json=_alt_v2(o), headers=h), lambda r, o: _ok(r), MEDIA, _only(OWNER)),  # noqa: E501
    Lookup("v1.1 subtitles/create", _subtitles_create, lambda r, o: _ok(r, 204), ("video",), _only(OWNER)),  # noqa: E501
    Lookup("v1.1 subtitles/delete", _subtitles_delete, lambda r, o: _ok(r, 204), ("video",), _only(OWNER)),  # noqa: E501
    Lookup("v2 subtitles create", _subtitles_create_v2, lambda r, o: _ok(r), ("video",), _only(OWNER)),  # noqa: E501
    Lookup("v2 subtitles delete", _subtitles_delete_v2, lambda r, o: _ok(r), ("video",), _only(OWNER)),  # noqa: E501
    Lookup("v1.1 statuses/show", lambda w, h, o: w.client.get("/1.1/statuses/show.json", params={"id": o.post_id}, headers=h), lambda r, o: _ok(r) and r.json()["id_str"] == o.post_id, ("post",), _only(SIGNED_IN)),  # noqa: E501
    Lookup("v2 tweets/{id}", lambda w, h, o: w.client.get(f"/2/tweets/{o.post_id}{T}", headers=h), _tweet, ("post",), _only(SIGNED_IN)),  # noqa: E501
    Lookup("v2 tweets?ids", lambda w, h, o: w.client.get(f"/2/tweets{T}&ids={o.post_id}", headers=h), _tweet, ("post",), _only(SIGNED_IN)),  # noqa: E501
    Lookup("v1.1 statuses/destroy", _destroy, lambda r, o: _ok(r), ("post",), _only(OWNER), _forbidden),  # noqa: E501
    Lookup("v2 DELETE tweets/{id}", _destroy_v2, lambda r, o: _ok(r), ("post",), _only(OWNER), _forbidden),  # noqa: E501
    Lookup("v1.1 DM events/show", lambda w, h, o: w.client.get("/1.1/direct_messages/events/show.json", params={"id": o.dm_id}, headers=h), lambda r, o: _ok(r) and r.json()["event"]["id"] == o.dm_id, ("dm event",), _only(DM_PARTICIPANTS)),  # noqa: E501
    Lookup("v1.1 DM media file", lambda w, h, o: w.client.get(o.dm_path, headers=h), lambda r, o: _ok(r) and r.headers["content-type"] == "image/png", ("dm event",), _only(DM_PARTICIPANTS)),  # noqa: E501
    Lookup("v1.1 users/show", lambda w, h, o: w.client.get("/1.1/users/show.json", params={"user_id": o.user_id}, headers=h), lambda r, o: _ok(r) and r.json()["id_str"] == o.user_id, ("profile",), _only(SIGNED_IN)),  # noqa: E501
    Lookup("v1.1 user_timeline", lambda w, h, o: w.client.get("/1.1/statuses/user_timeline.json", params={"user_id": o.user_id}, headers=h), lambda r, o: _ok(r) and o.post_id in [s["id_str"] for s in r.json()], ("profile",), _only(SIGNED_IN)),  # noqa: E501
]
# fmt: on
CASES = [(lk, obj, actor) for lk in LOOKUPS for obj in lk.objects for actor in ACTORS]


async def _upload(
    w: World, path: Path, media_type: str, category: str, **extra: str
) -> tuple[str, str]:
    """A chunked upload as the owner; the id and key."""
    h, data = w.headers["owner"], path.read_bytes()
    started = await init(
        w.client, h, total_bytes=len(data), media_type=media_type, category=category, **extra
    )
    media_id = started.json()["media_id_string"]
    assert (await append(w.client, h, media_id, 0, data)).status_code == 204
    assert (await finalize(w.client, h, media_id)).status_code in (200, 201)
    return str(media_id), str(started.json()["media_key"])


def _ghost(obj: Obj, n: int) -> Obj:
    """The same object with ids never issued."""
    never = str(9_100_000_000_000_000_000 + n)
    prefix = obj.media_key.split("_")[0] if obj.media_key else ""
    return replace(
        obj,
        media_id=never if obj.media_id else "",
        media_key=f"{prefix}_{never}" if obj.media_key else "",
        post_id=never if obj.post_id else "",
        dm_id=never if obj.dm_id else "",
        dm_path=obj.dm_path.replace(obj.dm_id, never) if obj.dm_path else "",
        user_id=never if obj.user_id else "",
    )


async def _build(w: World, files: dict[str, Path], tmp: Path) -> None:
    co = {"additional_owners": str(w.users["co_owner"].id)}
    objects: dict[str, Obj] = {}
    for name, (kind, mime, category) in {
        "photo": ("png", "image/png", "tweet_image"),
        "gif": ("gif", "image/gif", "tweet_gif"),
        "video": ("mp4", "video/mp4", "tweet_video"),
        "posted photo": ("png", "image/png", "tweet_image"),
    }.items():
        media_id, key = await _upload(w, files[kind], mime, category, **co)
        objects[name] = Obj(media_id=media_id, media_key=key)
    dm_id, dm_key = await _upload(w, files["png"], "image/png", "dm_image")
    objects["dm photo"] = Obj(media_id=dm_id, media_key=dm_key)
    srt = tmp / "track.srt"
    srt.write_text(SRT)
    w.subtitle_id, sub_key = await _upload(w, srt, "text/srt", "subtitles", **co)
    objects["subtitle track"] = Obj(media_id=w.subtitle_id, media_key=sub_key)
    context = w.app.state.context
    runner = Runner(context.sessions, context.store, context.policy)
    while await runner.run_once():
        pass
    for obj in objects.values():  # every upload processed before anyone looks
        assert (await status(w.client, w.headers["owner"], obj.media_id)).status_code in (200, 404)
    w.objects = objects
    assert (await _subtitles_create(w, w.headers["owner"], objects["video"])).status_code == 204
    posted = await post_status(
        w.client, w.headers["owner"], "public", [objects["posted photo"].media_id]
    )
    assert posted.status_code == 200, posted.text
    objects["post"] = replace(objects["posted photo"], post_id=posted.json()["id_str"])
    attachment = {"type": "media", "media": {"id": dm_id}}
    event = {"type": "message_create", "message_create": {
        "target": {"recipient_id": str(w.users["recipient"].id)},
        "message_data": {"text": "x", "attachment": attachment}}}  # fmt: skip
    sent = await w.client.post("/1.1/direct_messages/events/new.json", json={"event": event},
                               headers=w.headers["owner"])  # fmt: skip
    assert sent.status_code == 200, sent.text
    url = sent.json()["event"]["message_create"]["message_data"]["attachment"]["media"]
    path = "/" + url["media_url_https"].split("://", 1)[1].split("/", 1)[1]
    objects["dm event"] = Obj(dm_id=sent.json()["event"]["id"], dm_path=path)
    objects["profile"] = Obj(user_id=str(w.users["owner"].id), post_id=objects["post"].post_id)
    w.objects = objects
    w.ghosts = {name: _ghost(obj, n) for n, (name, obj) in enumerate(objects.items())}


@pytest.fixture(scope="module")
async def world(
    database_url: str,
    engine: AsyncEngine,
    tmp_path_factory: pytest.TempPathFactory,
    png_file: Path,
    gif_file: Path,
    mp4_file: Path,
) -> AsyncIterator[World]:
    tmp = tmp_path_factory.mktemp("visibility")
    app = create_app(make_settings(database_url, tmp / "data"))
    async with app.router.lifespan_context(app):
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://testserver") as client:
            users = {a: await create_user(engine, a) for a in sorted(SIGNED_IN)}
            headers = {a: u.headers for a, u in users.items()} | {"nobody": {}}
            w = World(app, client, headers, users, {}, {}, "")
            await _build(w, {"png": png_file, "gif": gif_file, "mp4": mp4_file}, tmp)
            yield w
    await _truncate(engine)


@pytest.mark.parametrize(
    ("lookup", "obj", "actor"), CASES, ids=[f"{lk.name}|{o}|{a}" for lk, o, a in CASES]
)
async def test_who_sees_what(world: World, lookup: Lookup, obj: str, actor: str) -> None:
    target = world.objects[obj]
    response = await lookup.probe(world, world.headers[actor], target)

    assert response.status_code < 500, response.text
    if actor != "nobody" and lookup.refused is not None and actor not in lookup.audience(obj):
        assert lookup.refused(response), response.text
        return
    ghost = world.ghosts[obj]
    missing = await lookup.probe(world, world.headers[actor], ghost)
    as_missing = (response.status_code, target.normal(response)) == (
        missing.status_code,
        ghost.normal(missing),
    )
    if actor not in lookup.audience(obj):
        assert as_missing, f"{response.text} differs from {missing.text}"
    elif lookup.seen is None:
        assert not as_missing, response.text
    else:
        assert lookup.seen(response, target), response.text


@pytest.mark.parametrize("actor", sorted(SIGNED_IN))
async def test_the_sql_filter_is_the_pure_rule(world: World, actor: str) -> None:
    """``visible_to`` (lists) and ``may_see`` (objects in hand) agree on every object."""
    viewer = world.users[actor].id
    ids = [int(o.media_id) for o in world.objects.values() if o.media_id]
    async with world.app.state.context.sessions() as session:
        audiences = await load_audiences(session, ids)
        listed = set(
            await session.scalars(select(Media.id).where(Media.id.in_(ids), visible_to(viewer)))
        )
    assert {i for i in ids if may_see(viewer, audiences[i])} == listed
    named = {n for n, o in world.objects.items() if o.media_id and int(o.media_id) in listed}
    assert named - {"post", "subtitle track"} == {o for o in MEDIA if actor in SEES[o]}

"""Every id a route takes (path, query, form and JSON body) outside 1..2^63-1, or not
ASCII digits, is the surface's 400: never an OverflowError from the database driver."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from httpx import AsyncClient, Response

from tests.conftest import Env, User
from tests.fixtures.bodies import assert_v2_problem, assert_v11_error

BAD_IDS: list[int | str] = [2**63, 2**64, -1, 0, "١"]
UPLOAD = "/1.1/media/upload.json"

Send = Callable[[AsyncClient, dict[str, str], Any, User], Awaitable[Response]]


def _q(value: object) -> str:
    return str(value)


def _form(path: str, **fields: object) -> Send:
    return lambda c, h, bad, bob: c.post(
        path, data={k: _q(bad) if v is ... else str(v) for k, v in fields.items()}, headers=h
    )


def _query(path: str, **fields: object) -> Send:
    return lambda c, h, bad, bob: c.get(
        path, params={k: _q(bad) if v is ... else str(v) for k, v in fields.items()}, headers=h
    )


def _json(method: str, path: str, body: Callable[[Any, User], dict[str, Any]]) -> Send:
    return lambda c, h, bad, bob: c.request(method, path, json=body(bad, bob), headers=h)


def _dm_v11(recipient: Callable[[Any, User], Any], media: Any = None) -> Send:
    def body(bad: Any, bob: User) -> dict[str, Any]:
        data: dict[str, Any] = {"text": "hi"}
        if media is not None:
            data["attachment"] = {"type": "media", "media": {"id": bad}}
        create = {"target": {"recipient_id": recipient(bad, bob)}, "message_data": data}
        return {"event": {"type": "message_create", "message_create": create}}

    return _json("POST", "/1.1/direct_messages/events/new.json", body)


def _append_v11(c: AsyncClient, h: dict[str, str], bad: Any, bob: User) -> Awaitable[Response]:
    data = {"command": "APPEND", "media_id": _q(bad), "segment_index": "0"}
    return c.post(UPLOAD, data=data, files={"media": b"abc"}, headers=h)


def _append_v2(c: AsyncClient, h: dict[str, str], bad: Any, bob: User) -> Awaitable[Response]:
    path = f"/2/media/upload/{_q(bad)}/append"
    return c.post(path, data={"segment_index": "0"}, files={"media": b"abc"}, headers=h)


_SUBTITLES_V11 = {"media_category": "TweetVideo"}
ROUTES: dict[str, Send] = {
    # v1.1 upload host
    "STATUS media_id": _query(UPLOAD, command="STATUS", media_id=...),
    "APPEND media_id": _append_v11,
    "FINALIZE media_id": _form(UPLOAD, command="FINALIZE", media_id=...),
    "INIT additional_owners": _form(
        UPLOAD, command="INIT", total_bytes=10, media_type="image/png", additional_owners=...
    ),
    # v1.1 API
    "statuses/show id": _query("/1.1/statuses/show.json", id=...),
    "statuses/destroy id": lambda c, h, bad, bob: c.post(
        f"/1.1/statuses/destroy/{_q(bad)}.json", headers=h
    ),
    "statuses/update media_ids": _form("/1.1/statuses/update.json", status="a", media_ids=...),
    "statuses/update in_reply_to_status_id": _form(
        "/1.1/statuses/update.json", status="a", in_reply_to_status_id=...
    ),
    "user_timeline user_id": _query("/1.1/statuses/user_timeline.json", user_id=...),
    "user_timeline max_id": _query("/1.1/statuses/user_timeline.json", max_id=...),
    "users/show user_id": _query("/1.1/users/show.json", user_id=...),
    "dm events/show id": _query("/1.1/direct_messages/events/show.json", id=...),
    "dm events/new recipient_id": _dm_v11(lambda bad, bob: bad),
    "dm events/new media id": _dm_v11(lambda bad, bob: str(bob.id), media=True),
    "metadata/create media_id": _json(
        "POST",
        "/1.1/media/metadata/create.json",
        lambda bad, bob: {"media_id": bad, "alt_text": {"text": "a"}},
    ),
    "subtitles/create media_id": _json(
        "POST",
        "/1.1/media/subtitles/create.json",
        lambda bad, bob: {
            "media_id": bad,
            **_SUBTITLES_V11,
            "subtitle_info": {
                "subtitles": [{"media_id": "1", "language_code": "en", "display_name": "English"}]
            },
        },
    ),
    "subtitles/create subtitle media_id": _json(
        "POST",
        "/1.1/media/subtitles/create.json",
        lambda bad, bob: {
            "media_id": "1",
            **_SUBTITLES_V11,
            "subtitle_info": {
                "subtitles": [{"media_id": bad, "language_code": "en", "display_name": "English"}]
            },
        },
    ),
    "subtitles/delete media_id": _json(
        "POST",
        "/1.1/media/subtitles/delete.json",
        lambda bad, bob: {
            "media_id": bad,
            **_SUBTITLES_V11,
            "subtitle_info": {"subtitles": [{"language_code": "en"}]},
        },
    ),
    # v2
    "v2 STATUS media_id": _query("/2/media/upload", media_id=...),
    "v2 append path id": _append_v2,
    "v2 finalize path id": lambda c, h, bad, bob: c.post(
        f"/2/media/upload/{_q(bad)}/finalize", headers=h
    ),
    "v2 command=FINALIZE media_id": _form("/2/media/upload", command="FINALIZE", media_id=...),
    "v2 initialize additional_owners": _json(
        "POST",
        "/2/media/upload/initialize",
        lambda bad, bob: {
            "media_type": "image/png",
            "total_bytes": 10,
            "additional_owners": [_q(bad)],
        },
    ),
    "v2 GET tweets/{id}": lambda c, h, bad, bob: c.get(f"/2/tweets/{_q(bad)}", headers=h),
    "v2 DELETE tweets/{id}": lambda c, h, bad, bob: c.delete(f"/2/tweets/{_q(bad)}", headers=h),
    "v2 GET tweets ids": _query("/2/tweets", ids=...),
    "v2 POST tweets media_ids": _json(
        "POST", "/2/tweets", lambda bad, bob: {"text": "a", "media": {"media_ids": [bad]}}
    ),
    "v2 POST tweets tagged_user_ids": _json(
        "POST",
        "/2/tweets",
        lambda bad, bob: {"text": "a", "media": {"media_ids": ["1"], "tagged_user_ids": [bad]}},
    ),
    "v2 dm participant_id": lambda c, h, bad, bob: c.post(
        f"/2/dm_conversations/with/{_q(bad)}/messages", json={"text": "hi"}, headers=h
    ),
    "v2 dm attachment media_id": lambda c, h, bad, bob: c.post(
        f"/2/dm_conversations/with/{bob.id}/messages",
        json={"text": "hi", "attachments": [{"media_id": bad}]},
        headers=h,
    ),
    "v2 metadata id": _json(
        "POST",
        "/2/media/metadata",
        lambda bad, bob: {"id": bad, "metadata": {"alt_text": {"text": "a"}}},
    ),
    "v2 subtitles id": _json(
        "POST",
        "/2/media/subtitles",
        lambda bad, bob: {"id": bad, "subtitles": {"id": "1", "language_code": "en"}},
    ),
    "v2 subtitles subtitles.id": _json(
        "POST",
        "/2/media/subtitles",
        lambda bad, bob: {"id": "1", "subtitles": {"id": bad, "language_code": "en"}},
    ),
    "v2 DELETE subtitles id": _json(
        "DELETE", "/2/media/subtitles", lambda bad, bob: {"id": bad, "language_code": "en"}
    ),
}


@pytest.mark.parametrize("route", sorted(ROUTES))
async def test_an_id_out_of_range_or_not_ascii_is_the_surfaces_400(
    env: Env, alice: User, bob: User, route: str
) -> None:
    answers = {}

    for bad in BAD_IDS:
        response = await ROUTES[route](env.client, alice.headers, bad, bob)
        answers[bad] = response

    for bad, response in answers.items():
        assert response.status_code == 400, (route, bad, response.status_code, response.text)
        if response.request.url.path.startswith("/2/"):
            assert_v2_problem(response.json(), status=400)
        else:
            assert_v11_error(response.json())


async def test_delete_v2_subtitles_with_an_empty_body_is_400(env: Env, alice: User) -> None:
    response = await env.client.request("DELETE", "/2/media/subtitles", headers=alice.headers)

    assert response.status_code == 400
    assert_v2_problem(response.json(), status=400)
    assert response.json()["errors"][0]["message"] == "id parameter is missing."


async def test_a_file_path_with_a_huge_account_id_is_404_not_500(env: Env) -> None:
    response = await env.client.get(f"/profile_images/{2**64}/{'0' * 20}/avatar.png")

    assert response.status_code == 404

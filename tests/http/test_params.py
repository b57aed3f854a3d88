"""Every id of every route, malformed or out of range, is the surface's 4xx, never a 500.

Ids are snowflakes (0..2^63-1, a signed 64-bit column): 2^63 used to reach the database
driver and fail there (OverflowError, a 500) on some routes. Each route answers in its
surface's error JSON: v1.1 ``{"errors":[...]}``, the upload host's ``{"request","error"}``
form (or ``errors`` code 38 for a missing parameter), v2 problems; private and public
file URLs answer 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from httpx import Response

from app.core import errors
from app.http import params
from app.uploads import protocol
from tests.conftest import Env, User

TOO_BIG = str(2**63)
BAD_IDS = [TOO_BIG, "1" * 20, "abc", "-1", "1.5", "", "٣"]  # the last: a non-ASCII digit
UPLOAD = "/1.1/media/upload.json"
PNG_PART = {"media": ("blob", b"\x89PNG\r\n\x1a\n", "application/octet-stream")}
TOKEN = "0" * 20

Request = Callable[[str, User], tuple[str, str, dict[str, Any]]]


def _v11_event(recipient: str, media: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"text": "hi"}
    if media is not None:
        data["attachment"] = {"type": "media", "media": {"id": media}}
    create = {"target": {"recipient_id": recipient}, "message_data": data}
    return {"event": {"type": "message_create", "message_create": create}}


def _subtitles(video: str, track: str) -> dict[str, Any]:
    item = {"media_id": track, "language_code": "en", "display_name": "English"}
    return {"media_id": video, "subtitle_info": {"subtitles": [item]}}


# name -> (surface, build(bad id, user) -> (method, url, httpx kwargs), empty is a value)
ROUTES: dict[str, tuple[str, Request, bool]] = {
    "v1.1 APPEND media_id": ("upload", lambda i, u: ("POST", UPLOAD, {
        "data": {"command": "APPEND", "media_id": i, "segment_index": "0"}, "files": PNG_PART}),
        False),
    "v1.1 FINALIZE media_id": ("upload", lambda i, u: ("POST", UPLOAD, {
        "data": {"command": "FINALIZE", "media_id": i}}), False),
    "v1.1 STATUS media_id": ("upload", lambda i, u: ("GET", UPLOAD, {
        "params": {"command": "STATUS", "media_id": i}}), False),
    "v1.1 INIT additional_owners": ("upload", lambda i, u: ("POST", UPLOAD, {"data": {
        "command": "INIT", "total_bytes": "10", "media_type": "image/png",
        "additional_owners": f"{u.id},{i}"}}), True),
    "v1.1 simple upload additional_owners": ("upload", lambda i, u: ("POST", UPLOAD, {
        "data": {"additional_owners": i}, "files": PNG_PART}), True),
    "v1.1 statuses/update media_ids": ("v11", lambda i, u: ("POST", "/1.1/statuses/update.json",
        {"data": {"status": "x", "media_ids": i}}), True),
    "v1.1 statuses/update in_reply_to_status_id": ("v11", lambda i, u: (
        "POST", "/1.1/statuses/update.json",
        {"data": {"status": "x", "in_reply_to_status_id": i}}), True),
    "v1.1 statuses/show id": ("v11", lambda i, u: ("GET", "/1.1/statuses/show.json",
        {"params": {"id": i}}), False),
    "v1.1 statuses/destroy id": ("v11", lambda i, u: ("POST", f"/1.1/statuses/destroy/{i}.json",
        {}), False),
    "v1.1 user_timeline user_id": ("v11", lambda i, u: ("GET", "/1.1/statuses/user_timeline.json",
        {"params": {"user_id": i}}), True),
    "v1.1 user_timeline max_id": ("v11", lambda i, u: ("GET", "/1.1/statuses/user_timeline.json",
        {"params": {"max_id": i}}), True),
    "v1.1 media/metadata/create media_id": ("v11", lambda i, u: (
        "POST", "/1.1/media/metadata/create.json",
        {"json": {"media_id": i, "alt_text": {"text": "x"}}}), False),
    "v1.1 users/show user_id": ("v11", lambda i, u: ("GET", "/1.1/users/show.json",
        {"params": {"user_id": i}}), False),
    "v1.1 direct_messages/events/new recipient_id": ("v11", lambda i, u: (
        "POST", "/1.1/direct_messages/events/new.json", {"json": _v11_event(i)}), False),
    "v1.1 direct_messages/events/new media id": ("v11", lambda i, u: (
        "POST", "/1.1/direct_messages/events/new.json", {"json": _v11_event(str(u.id), i)}),
        False),
    "v1.1 direct_messages/events/show id": ("v11", lambda i, u: (
        "GET", "/1.1/direct_messages/events/show.json", {"params": {"id": i}}), False),
    "v1.1 subtitles/create media_id": ("v11", lambda i, u: (
        "POST", "/1.1/media/subtitles/create.json", {"json": _subtitles(i, "1")}), False),
    "v1.1 subtitles/create subtitle media_id": ("v11", lambda i, u: (
        "POST", "/1.1/media/subtitles/create.json", {"json": _subtitles("1", i)}), False),
    "v1.1 subtitles/delete media_id": ("v11", lambda i, u: (
        "POST", "/1.1/media/subtitles/delete.json", {"json": _subtitles(i, "1")}), False),
    "v1.1 DM photo file dm_id": ("file", lambda i, u: (
        "GET", f"/1.1/ton/data/dm/{i}/media/{TOKEN}.png", {}), False),
    "v1.1 DM video file dm_id": ("file", lambda i, u: (
        "GET", f"/1.1/ton/data/dm/{i}/video/7_1/{TOKEN}/vid/1.mp4", {}), False),
    "profile image file account_id": ("file", lambda i, u: (
        "GET", f"/profile_images/{i}/{TOKEN}/avatar.png", {}), False),
    "profile banner file account_id": ("file", lambda i, u: (
        "GET", f"/profile_banners/{i}/{TOKEN}", {}), False),
    "profile banner size file account_id": ("file", lambda i, u: (
        "GET", f"/profile_banners/{i}/{TOKEN}/web", {}), False),
    "v2 initialize additional_owners": ("v2", lambda i, u: ("POST", "/2/media/upload/initialize",
        {"json": {"media_type": "image/png", "total_bytes": 10, "additional_owners": [i]}}),
        True),
    "v2 append path id": ("v2", lambda i, u: ("POST", f"/2/media/upload/{i}/append", {
        "data": {"segment_index": "0"}, "files": PNG_PART}), False),
    "v2 append JSON path id": ("v2", lambda i, u: ("POST", f"/2/media/upload/{i}/append", {
        "json": {"segment_index": 0, "media": "iVBORw0KGgo="}}), False),
    "v2 finalize path id": ("v2", lambda i, u: ("POST", f"/2/media/upload/{i}/finalize", {}),
        False),
    "v2 STATUS media_id": ("v2", lambda i, u: ("GET", "/2/media/upload", {
        "params": {"media_id": i}}), False),
    "v2 command=APPEND media_id": ("v2", lambda i, u: ("POST", "/2/media/upload", {
        "data": {"command": "APPEND", "media_id": i, "segment_index": "0"}, "files": PNG_PART}),
        False),
    "v2 command=FINALIZE media_id": ("v2", lambda i, u: ("POST", "/2/media/upload", {
        "data": {"command": "FINALIZE", "media_id": i}}), False),
    "v2 one-shot JSON additional_owners": ("v2", lambda i, u: ("POST", "/2/media/upload", {
        "json": {"media": "iVBORw0KGgo=", "additional_owners": [i]}}), True),
    "v2 POST /2/tweets media_ids": ("v2", lambda i, u: ("POST", "/2/tweets", {
        "json": {"text": "x", "media": {"media_ids": [i]}}}), False),
    "v2 GET /2/tweets/{id}": ("v2", lambda i, u: ("GET", f"/2/tweets/{i}", {}), False),
    "v2 GET /2/tweets ids": ("v2", lambda i, u: ("GET", "/2/tweets", {"params": {"ids": i}}),
        True),
    "v2 DELETE /2/tweets/{id}": ("v2", lambda i, u: ("DELETE", f"/2/tweets/{i}", {}), False),
    "v2 media/metadata id": ("v2", lambda i, u: ("POST", "/2/media/metadata", {
        "json": {"id": i, "metadata": {"alt_text": {"text": "x"}}}}), False),
    "v2 DM participant_id": ("v2", lambda i, u: (
        "POST", f"/2/dm_conversations/with/{i}/messages", {"json": {"text": "x"}}), False),
    "v2 DM attachment media_id": ("v2", lambda i, u: (
        "POST", f"/2/dm_conversations/with/{u.id}/messages",
        {"json": {"text": "x", "attachments": [{"media_id": i}]}}), False),
    "v2 subtitles create id": ("v2", lambda i, u: ("POST", "/2/media/subtitles", {"json": {
        "id": i, "subtitles": {"id": "1", "language_code": "en"}}}), False),
    "v2 subtitles create subtitles.id": ("v2", lambda i, u: ("POST", "/2/media/subtitles", {
        "json": {"id": "1", "subtitles": {"id": i, "language_code": "en"}}}), False),
    "v2 subtitles delete id": ("v2", lambda i, u: ("DELETE", "/2/media/subtitles", {
        "content": f'{{"id": "{i}", "language_code": "en"}}'}), False),
}  # fmt: skip


def _assert_surface_error(surface: str, response: Response) -> None:
    if surface == "file":
        assert response.status_code == 404, response.text
        return
    body = response.json()
    if surface == "v2":
        assert {"title", "detail", "type", "status", "errors"} <= body.keys(), body
        assert body["status"] == response.status_code
    elif surface == "upload" and "error" in body:  # the upload host's validation form
        assert set(body) >= {"request", "error"}, body
    else:
        assert body["errors"][0]["code"], body
        assert body["errors"][0]["message"], body


@pytest.mark.parametrize("name", sorted(ROUTES))
async def test_bad_ids_are_the_surfaces_4xx(env: Env, alice: User, name: str) -> None:
    surface, build, empty_is_a_value = ROUTES[name]

    for value in BAD_IDS:
        method, url, kwargs = build(value, alice)
        if value == "" and build("1", alice)[1] != build("2", alice)[1]:
            continue  # an id in the path: empty, it is another URL
        response = await env.client.request(method, url, headers=alice.headers, **kwargs)

        assert response.status_code < 500, (value, response.text)
        if value == "" and empty_is_a_value:
            continue  # an empty list or an omitted optional id is fine
        assert 400 <= response.status_code < 500, (value, response.status_code, response.text)
        _assert_surface_error(surface, response)


class TestParsers:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [("1", 1), ("9223372036854775807", 2**63 - 1), (" 42 ", 42), (7, 7)],
    )
    def test_snowflake_accepts_1_to_2_63_minus_1(self, raw: object, expected: int) -> None:
        assert params.snowflake(raw, "id") == expected

    @pytest.mark.parametrize(
        "raw", [TOO_BIG, "abc", "-1", "1e3", "٣", True, 2**63, 2**64, "0", 0, -1, 1.0, [1]]
    )
    def test_snowflake_refuses_the_rest(self, raw: object) -> None:
        with pytest.raises(errors.InvalidParameter):
            params.snowflake(raw, "id")

    @pytest.mark.parametrize("raw", [None, "", "  "])
    def test_missing_snowflake_is_code_38(self, raw: object) -> None:
        with pytest.raises(errors.ParameterMissing):
            params.snowflake(raw, "id")

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [("true", True), ("True", True), ("t", True), ("1", True), ("yes", True),
         (True, True), ("false", False), ("0", False), ("", False), (None, False),
         ("on", False)],
    )  # fmt: skip
    def test_one_flag_spelling_set(self, raw: object, expected: bool) -> None:
        assert params.flag(raw) is expected

    @pytest.mark.parametrize(
        ("raw", "error"),
        [("1000", errors.SegmentIndexOutOfRange),
         ("-1", errors.SegmentIndexOutOfRange),
         ("99999999", errors.SegmentIndexOutOfRange),
         ("x", errors.BadParameter), ("", errors.ParameterMissing)],
    )  # fmt: skip
    def test_segment_index_outside_0_to_999(self, raw: str, error: type[Exception]) -> None:
        with pytest.raises(error):
            params.segment_index(raw)

    def test_id_list_has_a_max_count(self) -> None:
        assert params.id_list("1, 2,,3", "ids", max_count=3) == [1, 2, 3]
        with pytest.raises(errors.InvalidParameter):
            params.id_list("1,2,3,4", "ids", max_count=3)

    @pytest.mark.parametrize(
        ("raw", "error"),
        [(None, errors.ParameterMissing), ("", errors.ParameterMissing),
         ("abc", errors.BadParameter), ("-1", errors.BadParameter)],
    )  # fmt: skip
    def test_total_bytes_missing_or_invalid(self, raw: object, error: type[Exception]) -> None:
        with pytest.raises(error):
            params.total_bytes(raw)

    def test_category_takes_every_spelling(self) -> None:
        assert params.category("TweetVideo") is protocol.MediaCategory.TWEET_VIDEO
        assert params.category("") is None

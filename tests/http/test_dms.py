from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from app.core.clock import utcnow
from app.http.deps import get_clock
from tests.conftest import Env, User
from tests.fixtures.entities import photo
from tests.fixtures.protocol import append, finalize, init

NEW = "/1.1/direct_messages/events/new.json"


def _event(recipient: int, text: str, media_id: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"text": text}
    if media_id is not None:
        data["attachment"] = {"type": "media", "media": {"id": media_id}}
    return {
        "event": {
            "type": "message_create",
            "message_create": {"target": {"recipient_id": str(recipient)}, "message_data": data},
        }
    }


async def _dm_photo(env: Env, user: User, path: Path, *, shared: bool = False) -> str:
    """DM media goes through the chunked upload with a dm_* category."""
    data = path.read_bytes()
    extra = {"shared": "true"} if shared else {}
    started = await init(
        env.client, user.headers, total_bytes=len(data), media_type="image/png",
        category="dm_image", **extra,
    )  # fmt: skip
    media_id = started.json()["media_id_string"]
    await append(env.client, user.headers, media_id, 0, data)
    assert (await finalize(env.client, user.headers, media_id)).status_code == 201
    return str(media_id)


class TestDirectMessages:
    async def test_dm_with_media_reaches_the_recipient_only(
        self, env: Env, alice: User, bob: User, engine: object, png_file: Path
    ) -> None:
        from tests.conftest import create_user

        carol = await create_user(engine, "carol")  # type: ignore[arg-type]
        media_id = await _dm_photo(env, alice, png_file)

        sent = await env.client.post(
            NEW, json=_event(bob.id, "look", media_id), headers=alice.headers
        )
        event = sent.json()["event"]
        url = event["message_create"]["message_data"]["attachment"]["media"]["media_url_https"]
        path = url.split("://", 1)[1].split("/", 1)[1]
        as_bob = await env.client.get("/" + path, headers=bob.headers)
        as_carol = await env.client.get("/" + path, headers=carol.headers)
        anonymous = await env.client.get("/" + path)
        shown = await env.client.get(
            "/1.1/direct_messages/events/show.json", params={"id": event["id"]},
            headers=carol.headers,
        )  # fmt: skip

        assert sent.status_code == 200, sent.text
        assert event["message_create"]["sender_id"] == str(alice.id)
        assert "/1.1/ton/data/dm/" in url
        assert as_bob.status_code == 200
        assert as_bob.headers["content-type"] == "image/png"
        assert as_carol.status_code == 404
        assert anonymous.status_code == 401
        assert shown.status_code == 404

    async def test_dm_media_is_not_on_the_public_delivery_route(
        self, env: Env, alice: User, bob: User, png_file: Path
    ) -> None:
        media_id = await _dm_photo(env, alice, png_file)
        sent = await env.client.post(NEW, json=_event(bob.id, "x", media_id), headers=alice.headers)
        url = sent.json()["event"]["message_create"]["message_data"]["attachment"]["media"][
            "media_url_https"
        ]
        filename = url.rsplit("/", 1)[1]

        public = await env.client.get(f"/media/{filename}")

        assert public.status_code == 404

    async def test_unshared_media_serves_one_dm_only(
        self, env: Env, alice: User, bob: User, png_file: Path
    ) -> None:
        media_id = await _dm_photo(env, alice, png_file)

        first = await env.client.post(
            NEW, json=_event(bob.id, "1", media_id), headers=alice.headers
        )
        second = await env.client.post(
            NEW, json=_event(bob.id, "2", media_id), headers=alice.headers
        )

        assert first.status_code == 200
        assert second.status_code == 400
        assert second.json()["errors"][0]["code"] == 324

    async def test_shared_media_serves_many_dms(
        self, env: Env, alice: User, bob: User, png_file: Path
    ) -> None:
        media_id = await _dm_photo(env, alice, png_file, shared=True)

        codes = []
        for i in range(3):
            sent = await env.client.post(
                NEW, json=_event(bob.id, str(i), media_id), headers=alice.headers
            )
            codes.append(sent.status_code)

        assert codes == [200, 200, 200]

    async def test_post_media_cannot_go_in_a_dm(
        self, env: Env, alice: User, bob: User, png_file: Path
    ) -> None:
        media_id = await photo(env.client, alice.headers, png_file)

        response = await env.client.post(
            NEW, json=_event(bob.id, "x", media_id), headers=alice.headers
        )

        assert response.status_code == 400

    async def test_media_older_than_a_day_is_refused(
        self, env: Env, alice: User, bob: User, png_file: Path
    ) -> None:
        media_id = await _dm_photo(env, alice, png_file)
        later = utcnow() + timedelta(hours=25)

        async def clock():  # type: ignore[no-untyped-def]
            return lambda: later

        env.app.dependency_overrides[get_clock] = clock
        response = await env.client.post(
            NEW, json=_event(bob.id, "x", media_id), headers=alice.headers
        )

        assert response.status_code == 400

    async def test_v2_message_with_attachment(
        self, env: Env, alice: User, bob: User, png_file: Path
    ) -> None:
        media_id = await _dm_photo(env, alice, png_file)

        response = await env.client.post(
            f"/2/dm_conversations/with/{bob.id}/messages",
            json={"text": "hi", "attachments": [{"media_id": media_id}]},
            headers=alice.headers,
        )

        assert response.status_code == 201
        low, high = sorted((alice.id, bob.id))
        assert response.json()["data"]["dm_conversation_id"] == f"{low}-{high}"

    async def test_unknown_recipient_is_404(self, env: Env, alice: User) -> None:
        response = await env.client.post(NEW, json=_event(42, "anyone?"), headers=alice.headers)

        assert response.status_code == 404
        assert response.json()["errors"][0]["code"] == 50

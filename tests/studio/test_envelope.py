"""The Ads envelope's cross-cutting parts: the version header on every studio answer,
route and method errors, framework errors in the Ads shape."""

from __future__ import annotations

import pytest

from tests.conftest import Env, User


@pytest.mark.parametrize("version", ["11", "12"])
async def test_every_studio_answer_names_the_current_version(
    env: Env, alice: User, version: str
) -> None:
    ok = await env.client.get(f"/{version}/accounts", headers=alice.headers)
    refused = await env.client.get(f"/{version}/accounts")
    unknown = await env.client.get(f"/{version}/accounts/abc/nothing_here", headers=alice.headers)

    assert ok.status_code == 200
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["code"] == "UNAUTHORIZED_ACCESS"
    assert unknown.status_code == 404
    assert unknown.json() == {
        "errors": [
            {"code": "ROUTE_NOT_FOUND", "message": "The requested resource could not be found"}
        ],
        "request": {"params": {}},
    }
    for response in (ok, refused, unknown):
        assert response.headers["x-current-api-version"] == "12"


async def test_other_surfaces_do_not_carry_it(env: Env, alice: User) -> None:
    response = await env.client.get("/1.1/account/verify_credentials.json", headers=alice.headers)

    assert "x-current-api-version" not in response.headers


async def test_a_wrong_method_is_method_not_allowed(env: Env, alice: User) -> None:
    response = await env.client.delete("/11/accounts", headers=alice.headers)

    assert response.status_code == 405
    assert response.json()["errors"][0]["code"] == "METHOD_NOT_ALLOWED"


async def test_json_arrays_and_objects_are_not_single_values(env: Env, alice: User) -> None:
    as_list = await env.client.post(
        "/studio/v1/accounts", json={"name": ["a", "b"]}, headers=alice.headers
    )
    as_object = await env.client.post(
        "/studio/v1/accounts", json={"name": {"x": 1}}, headers=alice.headers
    )
    as_bool = await env.client.post(
        "/studio/v1/accounts", json={"name": False}, headers=alice.headers
    )

    for response in (as_list, as_object, as_bool):
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0] == {
            "code": "INVALID_PARAMETER",
            "message": response.json()["errors"][0]["message"],
            "parameter": "name",
        }

"""The pure rules of app/studio/permissions.py and app/studio/sorting.py: no database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.studio import errors
from app.studio.permissions import PERMISSIONS, ROLES, Action, allowed, parse_permissions, role_of
from app.studio.sorting import Kind, SortKey, decode_cursor, encode_cursor, parse_sort

A = Action
# The documented matrix (README "Studio accounts and roles"): what each role may do.
MATRIX = {
    "admin": set(Action),
    "full": set(Action) - {A.MANAGE_MEMBERS},
    "limited": {A.VIEW_ACCOUNT, A.READ_LIBRARY, A.EDIT_LIBRARY, A.EDIT_DRAFTS, A.VIEW_LIVE},
}


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("action", list(Action))
def test_each_role_may_do_exactly_its_actions(role: str, action: Action) -> None:
    assert allowed(ROLES[role], action) is (action in MATRIX[role])


@pytest.mark.parametrize(
    ("permissions", "may", "may_not"),
    [
        (("CAMPAIGN_ANALYST",), {A.READ_LIBRARY, A.VIEW_ANALYTICS}, {A.EDIT_LIBRARY, A.PUBLISH}),
        (("ANALYST",), {A.VIEW_ACCOUNT, A.VIEW_ANALYTICS}, {A.READ_LIBRARY}),
        (("AD_MANAGER",), {A.DELETE_MEDIA}, {A.PUBLISH, A.MANAGE_MEMBERS}),
        (("CREATIVE_MANAGER", "TWEET_COMPOSER"), {A.EDIT_DRAFTS}, {A.PUBLISH}),
        (("ACCOUNT_ADMIN",), {A.MANAGE_MEMBERS, A.DELETE_MEDIA}, {A.PUBLISH}),
        (("PARTNER_AUDIENCE_MANAGER",), {A.VIEW_ACCOUNT}, {A.READ_LIBRARY}),
        ((), set(), set(Action)),
    ],
)
def test_explicit_lists(
    permissions: tuple[str, ...], may: set[Action], may_not: set[Action]
) -> None:
    assert all(allowed(permissions, action) for action in may)
    assert not any(allowed(permissions, action) for action in may_not)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (["tweet_composer", " ad_manager "], ("AD_MANAGER", "TWEET_COMPOSER")),
        (["ANALYST", "ANALYST", ""], ("ANALYST",)),
        (list(reversed(PERMISSIONS)), PERMISSIONS),
    ],
)
def test_parse_permissions_normalises(given: list[str], expected: tuple[str, ...]) -> None:
    assert parse_permissions(given) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (["AD_MANAGER", "ROOT"], "Unknown permission ROOT"),
        ([], "At least one permission"),
        (["", " "], "At least one permission"),
        (["TWEET_COMPOSER"], "TWEET_COMPOSER is granted only with"),
        (["TWEET_COMPOSER", "ANALYST"], "TWEET_COMPOSER is granted only with"),
    ],
)
def test_parse_permissions_refuses(given: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_permissions(given)


@pytest.mark.parametrize(
    ("permissions", "role"),
    [
        (("TWEET_COMPOSER", "ACCOUNT_ADMIN"), "admin"),
        (("AD_MANAGER", "TWEET_COMPOSER"), "full"),
        (("CREATIVE_MANAGER",), "limited"),
        (("AD_MANAGER",), "custom"),
        (("ACCOUNT_ADMIN",), "custom"),
    ],
)
def test_role_of(permissions: tuple[str, ...], role: str) -> None:
    assert role_of(permissions) == role


FIELDS: dict[str, Kind] = {"created_at": "time", "name": "text", "deleted": "bool"}


def test_sort_by_keys_in_order() -> None:
    assert parse_sort(["name-desc", "created_at-asc"], FIELDS) == (
        SortKey("name", True),
        SortKey("created_at", False),
    )


@pytest.mark.parametrize("value", ["id-asc", "name", "name-up", "name-asc,name-desc", "-asc"])
def test_sort_by_refuses(value: str) -> None:
    with pytest.raises(errors.InvalidParameter):
        parse_sort(value.split(","), FIELDS)


def test_a_cursor_round_trips_its_typed_values() -> None:
    sort = (SortKey("created_at", True), SortKey("name", False), SortKey("deleted", False))
    when = datetime(2026, 12, 3, 6, 0, 0, 123456, tzinfo=UTC)

    keyset = decode_cursor(encode_cursor(sort, [when, "Café", True], "abc"), sort, FIELDS)

    assert keyset.values == (when, "Café", True)
    assert keyset.last_id == "abc"


BY_NAME = (SortKey("name", False),)
BY_TIME = (SortKey("created_at", False),)


@pytest.mark.parametrize(
    ("cursor", "sort"),
    [
        ("", BY_NAME),
        ("c-", BY_NAME),
        ("c-!!!", BY_NAME),
        ("x-" + encode_cursor(BY_NAME, ["a"], "1")[2:], BY_NAME),
        (encode_cursor((SortKey("name", True),), ["a"], "1"), BY_NAME),  # another direction
        (encode_cursor(BY_NAME, [5], "1"), BY_NAME),  # a number for a text
        (encode_cursor(BY_NAME, ["a"], 1), BY_NAME),  # type: ignore[arg-type]
        (encode_cursor((*BY_NAME, *BY_TIME), ["a", "b"], "1"), BY_NAME),
        (encode_cursor(BY_TIME, ["2026-01-01T00:00:00"], "1"), BY_TIME),  # naive time
        (encode_cursor(BY_TIME, ["yesterday"], "1"), BY_TIME),
    ],
)
def test_forged_or_foreign_cursors_are_invalid(cursor: str, sort: tuple[SortKey, ...]) -> None:
    with pytest.raises(errors.InvalidParameter) as raised:
        decode_cursor(cursor, sort, FIELDS)

    assert raised.value.parameter == "cursor"

"""The analytics fixture makes a publicly delivered video in the account's library."""

from __future__ import annotations

from tests.analytics.conftest import Analytics


async def test_the_video_is_posted_and_in_the_library(analytics: Analytics) -> None:
    item = await analytics.studio.call(
        "GET", f"media_library/{analytics.video_key}", analytics.studio.admin
    )
    assert item.status_code == 200, item.text
    assert item.json()["data"]["tweeted"] is True
    assert item.json()["data"]["media_type"] == "VIDEO"

"""Pure parts of the library: the terms of a text, the status and category names, and
how deleted media reads on the post wires."""

from __future__ import annotations

import pytest

from app.http.v2.presenters import media_object_v2
from app.http.v11.presenters import media_object_v11
from app.media.views import MediaView
from app.studio import search
from app.studio.library_views import library_category, media_status
from app.uploads.protocol import MediaKind, UploadState


class TestTerms:
    def test_words_lower_cased_split_on_punctuation(self) -> None:
        assert search.terms(["Mountains.MP4", None, "", "coffee_beans Ünïcode"]) == {
            "mountains",
            "mp4",
            "coffee",
            "beans",
            "ünïcode",
        }

    def test_query_terms_are_distinct_in_order(self) -> None:
        assert search.query_terms("Latte latte, ART") == ["latte", "art"]
        assert search.query_terms("... --") == []

    def test_long_words_are_cut_alike_on_both_sides(self) -> None:
        word = "x" * 100
        assert search.terms([word]) == {"x" * search.MAX_TERM}
        assert search.query_terms(word) == ["x" * search.MAX_TERM]


@pytest.mark.parametrize(
    ("state", "status"),
    [
        (UploadState.SUCCEEDED, "TRANSCODE_COMPLETED"),
        (UploadState.PENDING, "TRANSCODING"),
        (UploadState.IN_PROGRESS, "TRANSCODING"),
        (UploadState.FAILED, "TRANSCODE_FAILED"),
    ],
)
def test_media_status(state: UploadState, status: str) -> None:
    assert media_status(state) == status


@pytest.mark.parametrize(
    ("kind", "category", "expected"),
    [
        (MediaKind.IMAGE, None, "TWEET_IMAGE"),
        (MediaKind.IMAGE, "tweet_image", "TWEET_IMAGE"),
        (MediaKind.GIF, None, "TWEET_GIF"),
        (MediaKind.VIDEO, "amplify_video", "AMPLIFY_VIDEO"),
        (MediaKind.VIDEO, "tweet_video", "TWEET_VIDEO"),
        (MediaKind.IMAGE, "dm_image", None),
        (MediaKind.SUBTITLES, "subtitles", None),
    ],
)
def test_library_category(kind: MediaKind, category: str | None, expected: str | None) -> None:
    assert library_category(kind, category) == expected


def _removed(kind: MediaKind, key: str) -> MediaView:
    return MediaView(
        media_id=42,
        media_key=key,
        state=UploadState.SUCCEEDED,
        kind=kind,
        category=None,
        is_async=False,
        media_type="image/png",
        detected_type=None,
        total_bytes=1,
        size=1,
        sha256=None,
        width=10,
        height=10,
        expires_after_secs=0,
        progress_percent=None,
        error=None,
        delivery_token=None,
        removed=True,
    )


@pytest.mark.parametrize(
    ("kind", "key", "type_name"),
    [(MediaKind.IMAGE, "3_42", "photo"), (MediaKind.VIDEO, "7_42", "video")],
)
def test_deleted_media_on_the_wires(kind: MediaKind, key: str, type_name: str) -> None:
    v11 = media_object_v11(_removed(kind, key), [], base_url="http://x").model_dump(
        exclude_none=True
    )
    v2 = media_object_v2(_removed(kind, key), [], base_url="http://x").model_dump(exclude_none=True)

    assert v11 == {
        "id": 42,
        "id_str": "42",
        "media_key": key,
        "type": type_name,
        "ext_media_availability": {"status": "Unavailable", "reason": "Deleted"},
    }
    assert v2 == {"media_key": key, "type": type_name}

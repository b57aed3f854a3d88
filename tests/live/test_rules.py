"""The Producer's pure rules (app/live/rules.py) and the live specs' compatibility check
(app/live/compat.py): no database, no HTTP."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from app.live import compat, rules
from app.live.compat import CompatibilityInfo, StreamAttributes
from app.live.rules import BroadcastState, LiveRuleError

S = BroadcastState
ALL_STATES = list(BroadcastState)
NOT_NOT_STARTED = [s for s in ALL_STATES if s is not S.NOT_STARTED]
NOT_RUNNING = [s for s in ALL_STATES if s is not S.RUNNING]


def refused(call: Any, *args: Any, **kwargs: Any) -> LiveRuleError:
    with pytest.raises(LiveRuleError) as caught:
        call(*args, **kwargs)
    return caught.value


# --- the state machine --------------------------------------------------------------------


def test_states_are_the_wire_values() -> None:
    assert [s.value for s in ALL_STATES] == [
        "NOT_STARTED", "RUNNING", "ENDED", "TIMED_OUT", "CANCELED",
    ]  # fmt: skip
    assert [s for s in ALL_STATES if rules.is_active(s)] == [S.NOT_STARTED, S.RUNNING]
    assert rules.is_active("RUNNING")
    assert not rules.is_active("running")


def test_publish_from_not_started_with_video_runs() -> None:
    assert rules.publish("NOT_STARTED", stream_active=True) is S.RUNNING


def test_publish_without_video_is_a_conflict() -> None:
    error = refused(rules.publish, S.NOT_STARTED, stream_active=False)
    assert error.kind == "conflict"
    assert error.parameter is None
    assert "not receiving video" in error.message


@pytest.mark.parametrize("state", NOT_NOT_STARTED)
@pytest.mark.parametrize("active", [True, False])
def test_publish_from_any_other_state_is_invalid(state: BroadcastState, active: bool) -> None:
    error = refused(rules.publish, state.value, stream_active=active)
    assert (error.kind, error.parameter) == ("invalid", "state")
    assert error.message == f"A broadcast in state {state.value} cannot be published."


def test_end_from_running_ends() -> None:
    assert rules.end("RUNNING") is S.ENDED


@pytest.mark.parametrize("state", NOT_RUNNING)
def test_end_from_any_other_state_is_invalid(state: BroadcastState) -> None:
    error = refused(rules.end, state.value)
    assert (error.kind, error.parameter) == ("invalid", "state")
    assert error.message == f"A broadcast in state {state.value} cannot be ended."


@pytest.mark.parametrize(
    ("state", "lost_for", "expected"),
    [
        (S.RUNNING, 60.5, S.ENDED),
        (S.RUNNING, 3600.0, S.ENDED),
        (S.RUNNING, 60.0, None),  # exactly the window: still waiting for a reconnect
        (S.RUNNING, 0.0, None),
        (S.NOT_STARTED, 3600.0, None),
        (S.ENDED, 3600.0, None),
        (S.TIMED_OUT, 3600.0, None),
        (S.CANCELED, 3600.0, None),
    ],
)
def test_ingest_lost(state: BroadcastState, lost_for: float, expected: S | None) -> None:
    assert rules.ingest_lost(state.value, lost_for=lost_for, window=60.0) == expected


def test_ingest_lost_with_no_window_ends_at_once() -> None:
    assert rules.ingest_lost("RUNNING", lost_for=0.001, window=0.0) is S.ENDED


@pytest.mark.parametrize(
    ("state", "age", "expected"),
    [
        (S.NOT_STARTED, 3600.1, S.TIMED_OUT),
        (S.NOT_STARTED, 3600.0, None),
        (S.NOT_STARTED, 10.0, None),
        (S.RUNNING, 99999.0, None),
        (S.ENDED, 99999.0, None),
        (S.CANCELED, 99999.0, None),
    ],
)
def test_timed_out(state: BroadcastState, age: float, expected: S | None) -> None:
    assert rules.timed_out(state.value, age=age, timeout=3600.0) == expected


# --- tags, chat, region, names, urls ------------------------------------------------------


def test_tag_vocabulary() -> None:
    assert rules.MAX_TAGS == 2
    assert len(rules.TAGS) == len(set(rules.TAGS))
    assert all(t == t.strip().lower() and t for t in rules.TAGS)
    assert {"news", "sports", "music", "gaming"} <= set(rules.TAGS)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ([], []),
        (["news"], ["news"]),
        (["news", "sports"], ["news", "sports"]),
        (["News", " SPORTS "], ["news", "sports"]),
        (["news", "NEWS", "News "], ["news"]),  # duplicates count once
        (["music", "news", "Music"], ["music", "news"]),
    ],
)
def test_tags_accepted(given: list[str], expected: list[str]) -> None:
    assert rules.check_tags(given) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (["news", "sports", "music"], "At most 2 tags."),
        (["news", "cooking"], "Unknown tag 'cooking': see /2/broadcast_tags."),
        (["nëws"], "Unknown tag 'nëws': see /2/broadcast_tags."),
        ([""], "Unknown tag '': see /2/broadcast_tags."),
        ("news", "tags must be a list of strings."),
        (["news", 1], "tags must be a list of strings."),
        ({"news": 1}, "tags must be a list of strings."),
        (None, "tags must be a list of strings."),
    ],
)
def test_tags_refused(given: object, message: str) -> None:
    error = refused(rules.check_tags, given)
    assert (error.kind, error.parameter, error.message) == ("invalid", "tags", message)


@pytest.mark.parametrize("value", [0, 1, 2, 3, 4, 5, 6])
def test_chat_options(value: int) -> None:
    assert rules.check_chat_option(value) == value


@pytest.mark.parametrize("value", [-1, 7, 100, True, False, "1", 1.0, None, [1]])
def test_chat_option_refused(value: object) -> None:
    error = refused(rules.check_chat_option, value)
    assert (error.kind, error.parameter) == ("invalid", "chat_option")
    assert error.message == "chat_option must be an integer from 0 to 6."


def test_chat_constants() -> None:
    assert (rules.CHAT_DISABLED, rules.CHAT_EVERYONE) == (1, 2)


@pytest.mark.parametrize("region", rules.REGIONS)
def test_regions(region: str) -> None:
    assert rules.check_region(region) == region


def test_region_list_is_section_5() -> None:
    assert len(rules.REGIONS) == 16
    assert {"us-east-1", "us-west-2", "eu-central-1", "ap-southeast-2"} <= set(rules.REGIONS)


@pytest.mark.parametrize(
    "value", ["us-east-3", "US-EAST-1", " us-east-1", "", None, 1, ["eu-west-1"]]
)
def test_region_refused(value: object) -> None:
    error = refused(rules.check_region, value)
    assert (error.kind, error.parameter) == ("invalid", "region")
    assert error.message == f"region {value!r} is not a supported region."


@pytest.mark.parametrize(
    ("given", "expected"), [("Studio A", "Studio A"), ("  cam 2 ", "cam 2"), ("x" * 100, "x" * 100)]
)
def test_names(given: str, expected: str) -> None:
    assert rules.check_name(given) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (None, "name: field is required"),
        ("", "name: field is required"),
        ("   ", "name: field is required"),
        (12, "name: field is required"),
        ("x" * 101, "name is longer than 100."),
    ],
)
def test_name_refused(given: object, message: str) -> None:
    error = refused(rules.check_name, given)
    assert (error.kind, error.parameter, error.message) == ("invalid", "name", message)


def test_name_names_its_parameter() -> None:
    assert refused(rules.check_name, "", "label").message == "label: field is required"


def test_titles() -> None:
    assert rules.check_title("  Evening news ") == "Evening news"
    assert rules.check_title("") == ""
    assert rules.check_title("t" * 280) == "t" * 280
    assert refused(rules.check_title, "t" * 281).message == "title is longer than 280."
    assert refused(rules.check_title, 5).parameter == "title"


@pytest.mark.parametrize(
    "url", ["https://cdn.example.org/live/index.m3u8", "http://127.0.0.1:8080/a.m3u8?x=1"]
)
def test_hls_urls(url: str) -> None:
    assert rules.check_hls_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        None, "", "ftp://example.org/a.m3u8", "rtmp://example.org/x", "example.org/a.m3u8",
        "https://example.org/a b.m3u8", "https://example.org/\n", "https://e.org/" + "a" * 2000,
        42,
    ],
)  # fmt: skip
def test_hls_url_refused(url: object) -> None:
    error = refused(rules.check_hls_url, url)
    assert (error.kind, error.parameter) == ("invalid", "external_hls_url")


@pytest.mark.parametrize("value", ["en", "en_US", "pt-BR", "zh_Hant_TW"])
def test_locales(value: str) -> None:
    assert rules.check_locale(value) == value


@pytest.mark.parametrize("value", ["e", "en US", "en;US", "x" * 11, None, 5])
def test_locale_refused(value: object) -> None:
    assert refused(rules.check_locale, value).parameter == "locale"


@pytest.mark.parametrize(
    ("locale", "language"), [(None, "en"), ("fr", "fr"), ("en_US", "en"), ("PT-br", "pt")]
)
def test_language_of(locale: str | None, language: str) -> None:
    assert rules.language_of(locale) == language


def test_unknown_fields_keep_their_order() -> None:
    assert rules.unknown_fields(["name", "x", "region", "y"], ("name", "region")) == ["x", "y"]
    assert rules.unknown_fields([], ("name",)) == []


def test_generated_ids_and_keys() -> None:
    ids = {rules.broadcast_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"1[a-zA-Z0-9]{12}", i) for i in ids)
    keys = {rules.stream_key() for _ in range(200)}
    assert len(keys) == 200
    assert all(re.fullmatch(r"[a-z0-9]{24}", k) for k in keys)
    names = {rules.live_name() for _ in range(200)}
    assert len(names) == 200
    # a name LiveFiles accepts as a folder (app/storage/live.py: ^[a-z0-9]{1,32}$)
    assert all(re.fullmatch(r"s[0-9a-f]{20}", n) for n in names)


def test_rule_error_carries_its_fields() -> None:
    error = LiveRuleError("conflict", "busy", "id")
    assert (error.kind, error.message, error.parameter, str(error)) == (
        "conflict", "busy", "id", "busy",
    )  # fmt: skip
    assert isinstance(error, ValueError)


# --- compatibility_info -------------------------------------------------------------------

CLEAN = StreamAttributes(
    video_codec="H.264/AVC",
    video_bitrate=4_000_000,
    video_framerate=30.0,
    video_keyframe_interval_in_seconds=3.0,
    video_width=1280,
    video_height=720,
    audio_codec="AAC",
    audio_profile="LC",
    audio_bitrate=128_000,
    audio_sampling_rate=44100,
    audio_num_channels=2,
)


def issues(info: CompatibilityInfo) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    def pairs(items: list[dict[str, str]]) -> list[tuple[str, str]]:
        assert all(set(i) == {"param_name", "violation"} for i in items), items
        return [(i["param_name"], i["violation"]) for i in items]

    return pairs(info.errors), pairs(info.warnings)


def test_clean_stream_has_no_errors_and_no_warnings() -> None:
    info = compat.check(CLEAN)
    assert info.to_wire() == {"errors": [], "warnings": []}


def test_the_measured_bitrate_overhead_constant() -> None:
    assert compat.AUDIO_OVERHEAD == 1.1
    assert compat.MAX_AUDIO_BITRATE == 128_000


MAX_RES = "Max allowed resolution: 1920x1080."
SUGGESTED_RES = "Suggested resolution: 1280x720."


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"video_codec": "HEVC"}, [("video_codec", "Required codec: H.264/AVC, got HEVC.")]),
        ({"video_codec": "H264"}, [("video_codec", "Required codec: H.264/AVC, got H264.")]),
        ({"video_bitrate": 12_000_001}, [("video_bitrate", "Max allowed bitrate: 12 Mbps.")]),
        ({"video_bitrate": 20_000_000}, [("video_bitrate", "Max allowed bitrate: 12 Mbps.")]),
        ({"video_width": 2560, "video_height": 1440}, [("video_width", MAX_RES)]),
        ({"video_width": 1921, "video_height": 1080}, [("video_width", MAX_RES)]),
        ({"video_width": 1920, "video_height": 1081}, [("video_height", MAX_RES)]),
        ({"video_width": 1080, "video_height": 1921}, [("video_height", MAX_RES)]),  # portrait
        ({"video_width": 1081, "video_height": 1920}, [("video_width", MAX_RES)]),  # portrait
        ({"video_framerate": 61.0}, [("video_framerate", "Max allowed frame rate: 60 fps.")]),
        ({"video_framerate": 120.0}, [("video_framerate", "Max allowed frame rate: 60 fps.")]),
        ({"audio_codec": "MP3"}, [("audio_codec", "Required codec: AAC-LC, got MP3.")]),
        ({"audio_codec": "Opus"}, [("audio_codec", "Required codec: AAC-LC, got Opus.")]),
        ({"audio_profile": "HE"}, [("audio_codec", "Required codec: AAC-LC, got AAC HE.")]),
        ({"audio_profile": "HEv2"}, [("audio_codec", "Required codec: AAC-LC, got AAC HEv2.")]),
        ({"audio_bitrate": 140_801}, [("audio_bitrate", "Max allowed bitrate: 128 kbps.")]),
        ({"audio_bitrate": 192_000}, [("audio_bitrate", "Max allowed bitrate: 128 kbps.")]),
    ],
)
def test_each_maximum_crossed_is_an_error(change: dict[str, Any], errors: list[Any]) -> None:
    found_errors, found_warnings = issues(compat.check(replace(CLEAN, **change)))
    assert found_errors == errors
    # a resolution over the maximum is not also warned about as over the recommended one
    assert [w for w in found_warnings if w[0] in {e[0] for e in errors}] == []


def test_no_video_track_is_an_error_and_nothing_else_of_video_is_checked() -> None:
    attrs = replace(CLEAN, video_codec=None, video_bitrate=50_000_000, video_framerate=240.0)
    errors, warnings = issues(compat.check(attrs))
    assert errors == [("video_codec", "No video track: H.264/AVC is required.")]
    assert warnings == []


@pytest.mark.parametrize(
    "change",
    [
        {"video_bitrate": 9_000_000},
        {"video_bitrate": 8_999_999},
        {"video_width": 720, "video_height": 1280},  # portrait 720p
        {"video_width": 640, "video_height": 360},
        {"video_framerate": 29.97},
        {"video_framerate": 30.005},  # rounding of a measured rate
        {"video_framerate": 24.0},
        {"video_keyframe_interval_in_seconds": 3.25},  # within the tolerance
        {"video_keyframe_interval_in_seconds": 2.75},
        {"audio_profile": "lc"},
        {"audio_profile": None},
        {"audio_bitrate": 134_000},  # 128 kbps as nginx measures it (FLV framing)
        {"audio_bitrate": 140_800},  # exactly 128 kbps * AUDIO_OVERHEAD
        {"video_bitrate": None, "video_framerate": None, "video_width": None},
        {"video_keyframe_interval_in_seconds": None, "audio_bitrate": None},
    ],
)
def test_within_the_recommendations_is_clean(change: dict[str, Any]) -> None:
    assert compat.check(replace(CLEAN, **change)).to_wire() == {"errors": [], "warnings": []}


@pytest.mark.parametrize(
    ("change", "warnings"),
    [
        ({"video_bitrate": 9_000_001}, [("video_bitrate", "Max suggested bitrate: 9 Mbps.")]),
        ({"video_bitrate": 12_000_000}, [("video_bitrate", "Max suggested bitrate: 9 Mbps.")]),
        ({"video_width": 1920, "video_height": 1080}, [("video_width", SUGGESTED_RES)]),
        ({"video_width": 1080, "video_height": 1920}, [("video_width", SUGGESTED_RES)]),
        ({"video_width": 1281, "video_height": 720}, [("video_width", SUGGESTED_RES)]),
        ({"video_width": 1280, "video_height": 721}, [("video_width", SUGGESTED_RES)]),
        ({"video_framerate": 60.0}, [("video_framerate", "Suggested frame rate: 30 fps.")]),
        ({"video_framerate": 50.0}, [("video_framerate", "Suggested frame rate: 30 fps.")]),
        ({"video_framerate": 60.005}, [("video_framerate", "Suggested frame rate: 30 fps.")]),
        (
            {"video_keyframe_interval_in_seconds": 2.0},
            [("video_keyframe_interval_in_seconds", "Suggested keyframe interval: 3 s.")],
        ),
        (
            {"video_keyframe_interval_in_seconds": 6.0},
            [("video_keyframe_interval_in_seconds", "Suggested keyframe interval: 3 s.")],
        ),
        (
            {"audio_codec": None, "audio_profile": None, "audio_bitrate": None},
            [("audio_codec", "No audio track: AAC-LC is recommended.")],
        ),
    ],
)
def test_warnings(change: dict[str, Any], warnings: list[Any]) -> None:
    errors, found = issues(compat.check(replace(CLEAN, **change)))
    assert errors == []
    assert found == warnings


def test_portrait_full_hd_is_allowed() -> None:
    errors, warnings = issues(compat.check(replace(CLEAN, video_width=1080, video_height=1920)))
    assert errors == []
    assert [w[0] for w in warnings] == ["video_width"]


def test_every_issue_of_a_bad_stream_is_reported_in_order() -> None:
    attrs = StreamAttributes(
        video_codec="VP8", video_bitrate=15_000_000, video_framerate=90.0,
        video_keyframe_interval_in_seconds=10.0, video_width=3840, video_height=2160,
        audio_codec="AAC", audio_profile="HE", audio_bitrate=256_000,
    )  # fmt: skip
    errors, warnings = issues(compat.check(attrs))
    assert [e[0] for e in errors] == [
        "video_codec", "video_bitrate", "video_width", "video_framerate", "audio_codec",
        "audio_bitrate",
    ]  # fmt: skip
    assert warnings == [("video_keyframe_interval_in_seconds", "Suggested keyframe interval: 3 s.")]


def test_attributes_on_the_wire() -> None:
    wire = CLEAN.to_wire()
    assert "audio_profile" not in wire
    assert wire == {
        "video_codec": "H.264/AVC", "video_bitrate": 4_000_000, "video_framerate": 30.0,
        "video_keyframe_interval_in_seconds": 3.0, "video_width": 1280, "video_height": 720,
        "audio_codec": "AAC", "audio_bitrate": 128_000, "audio_sampling_rate": 44100,
        "audio_num_channels": 2,
    }  # fmt: skip
    assert StreamAttributes(video_width=640).to_wire() == {"video_width": 640}
    back = StreamAttributes.from_wire({**wire, "caption_channels": [1]}, audio_profile="LC")
    assert back == CLEAN
    assert StreamAttributes.from_wire(wire).audio_profile is None


def test_recommended_configuration_is_the_seeds() -> None:
    assert compat.RECOMMENDED == {
        "video_codec": "H.264/AVC", "video_bitrate": 9_000_000, "video_framerate": 30.0,
        "video_keyframe_interval_in_seconds": 3.0, "video_width": 1280, "video_height": 720,
        "audio_codec": "AAC", "audio_bitrate": 128_000, "audio_sampling_rate": 44100,
        "audio_num_channels": 2,
    }  # fmt: skip
    # the recommended configuration itself passes its own check
    assert compat.check(StreamAttributes.from_wire(compat.RECOMMENDED)).to_wire() == {
        "errors": [], "warnings": [],
    }  # fmt: skip

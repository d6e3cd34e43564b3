from __future__ import annotations

import pytest

from openlive.errors import PolicyViolation, Unauthenticated
from openlive.protocol import KeyChecker, Method, extract_credential, match_route

from ..helpers import capture_records

P = "google.ai.generativelanguage"


@pytest.mark.parametrize(
    ("path", "method", "version", "vertex"),
    [
        (f"/ws/{P}.v1.GenerativeService.BidiGenerateContent", Method.LIVE, "v1", False),
        (
            f"//ws/{P}.v1beta.GenerativeService.BidiGenerateContent?key=K",
            Method.LIVE,
            "v1beta",
            False,
        ),
        (
            f"/prefix/x//ws/{P}.v1alpha.GenerativeService.BidiGenerateContent",
            Method.LIVE,
            "v1alpha",
            False,
        ),
        (
            f"//ws/{P}.v1alpha.GenerativeService.BidiGenerateContentConstrained?access_token=a",
            Method.LIVE_CONSTRAINED,
            "v1alpha",
            False,
        ),
        (f"/ws/{P}.v1alpha.GenerativeService.BidiGenerateMusic", Method.MUSIC, "v1alpha", False),
        (
            "/ws/google.cloud.aiplatform.v1beta1.LlmBidiService/BidiGenerateContent",
            Method.LIVE,
            "v1beta1",
            True,
        ),
        (
            "//ws/google.cloud.aiplatform.v1.LlmBidiService/BidiGenerateContent",
            Method.LIVE,
            "v1",
            True,
        ),
        (
            "/ws/google.firebase.vertexai.v1beta.GenerativeService/BidiGenerateContent",
            Method.LIVE,
            "v1beta",
            False,
        ),
        (
            "/ws/google.firebase.vertexai.v1beta.LlmBidiService/BidiGenerateContent/locations/us",
            Method.LIVE,
            "v1beta",
            True,
        ),
    ],
)
def test_known_routes(path: str, method: Method, version: str, vertex: bool) -> None:
    route = match_route(path)
    assert route is not None and not route.proxy
    assert (route.method, route.api_version, route.vertex) == (method, version, vertex)


def test_proxy_paths() -> None:
    route = match_route("/custom/path?x=1")
    assert route is not None and route.proxy
    assert match_route("/custom/path", allow_proxy=False) is None


@pytest.mark.parametrize(
    "name",
    ["python_sdk_live.jsonl", "js_sdk_live.jsonl", "python_sdk_music.jsonl", "js_sdk_music.jsonl"],
)
def test_every_captured_path_routes(name: str) -> None:
    for record in capture_records(name):
        if record["event"] == "connect":
            route = match_route(record["path"])
            assert route is not None
            if "custom" not in record["path"]:
                assert not route.proxy, record["path"]


@pytest.mark.parametrize(
    ("path", "headers", "value", "source"),
    [
        ("/x?key=Q", {"x-goog-api-key": "H"}, "Q", "query:key"),
        ("/x?access_token=auth_tokens/T", {}, "auth_tokens/T", "query:access_token"),
        ("/x", {"X-Goog-Api-Key": "H", "Authorization": "Bearer B"}, "H", "header:x-goog-api-key"),
        ("/x", {"Authorization": "Token auth_tokens/T"}, "auth_tokens/T", "header:authorization"),
        ("/x", {"authorization": "Bearer B"}, "B", "header:authorization"),
    ],
)
def test_credential_order(path: str, headers: dict, value: str, source: str) -> None:
    cred = extract_credential(path, headers)
    assert cred is not None and (cred.value, cred.source) == (value, source)


def test_no_credential() -> None:
    assert extract_credential("/x", {"authorization": "Basic abc"}) is None


def test_key_checker() -> None:
    open_checker = KeyChecker()
    open_checker.check(None)
    open_checker.check(extract_credential("/x?key=anything", {}))
    strict = KeyChecker(["k1", "k2"])
    strict.check(extract_credential("/x?key=k2", {}))
    with pytest.raises(Unauthenticated):
        strict.check(None)
    with pytest.raises(Unauthenticated) as info:
        strict.check(extract_credential("/x?key=nope", {}))
    assert info.value.code == 1008
    with pytest.raises(PolicyViolation, match="ephemeral"):
        open_checker.check(extract_credential("/x?access_token=auth_tokens/x", {}))


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/x?key=cl%C3%A9", {}),  # percent-encoded UTF-8 in the query
        ("/x?key=%FF%FE", {}),  # not UTF-8 at all
        ("/x", {"x-goog-api-key": "clé"}),
        ("/x", {"x-goog-api-key": "cl\xc3\xa9"}),  # UTF-8 bytes as a server decodes them
        ("/x", {"x-goog-api-key": "\xff\xfe"}),  # bytes that are not UTF-8
        ("/x", {"authorization": "Bearer ключ"}),
        ("/x", {"x-goog-api-key": "\ud800"}),  # a lone surrogate
    ],
)
def test_non_ascii_key_is_an_unknown_key(path: str, headers: dict[str, str]) -> None:
    strict = KeyChecker(["k1"])
    with pytest.raises(Unauthenticated) as info:
        strict.check(extract_credential(path, headers))
    assert info.value.code == 1008


def test_non_ascii_configured_key_matches_from_query_and_header() -> None:
    strict = KeyChecker(["café"])
    strict.check(extract_credential("/x?key=caf%C3%A9", {}))
    # header values are decoded as ISO-8859-1: UTF-8 "é" arrives as "Ã©"
    strict.check(extract_credential("/x", {"x-goog-api-key": "caf\xc3\xa9"}))
    strict.check(extract_credential("/x", {"authorization": "Bearer café"}))
    with pytest.raises(Unauthenticated):
        strict.check(extract_credential("/x?key=cafe", {}))

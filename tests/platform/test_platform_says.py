"""The platform's own error words, as real admin APIs write them, on one bounded line."""

from __future__ import annotations

from typing import Any

import pytest

from ircli.platform.bodies import MAX_QUOTE, platform_says


@pytest.mark.parametrize(
    ("body", "text", "said"),
    [
        ({"error": {"code": "not_found", "message": "no."}}, None, "not_found: no."),  # sandbox
        ({"error": "Record not found"}, None, "Record not found"),  # Mastodon
        ({"errorMessage": "User exists with same username"}, None,
         "User exists with same username"),  # Keycloak
        ({"errcode": "M_FORBIDDEN", "error": "You are not a server admin"}, None,
         "M_FORBIDDEN: You are not a server admin"),  # Synapse
        ({"detail": [{"msg": "value is not a valid enum"}]}, None, "value is not a valid enum"),
        ({"errors": ["status must be one of live, suspended, ended"]}, None,
         "status must be one of live, suspended, ended"),
        (None, b"<html>\n<b>Bad gateway</b>\n</html>", "<html> <b>Bad gateway</b> </html>"),
        ({}, None, None),
        (None, b"", None),
    ],
)  # fmt: skip
def test_common_error_shapes(body: Any, text: bytes | None, said: str | None) -> None:
    assert platform_says(body, text) == said


def test_long_words_are_cut_and_kept_on_one_line() -> None:
    said = platform_says({"message": "x\n" * 1000})
    assert said is not None
    assert len(said) == MAX_QUOTE
    assert said.endswith("…")
    assert "\n" not in said

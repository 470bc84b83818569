"""compliance.params.key_from: a key typed in a URL or form, never a 500 (issue 3)."""

from __future__ import annotations

import pytest

from compliance.params import MAX_KEY_DIGITS, key_from


@pytest.mark.parametrize(
    ("raw", "key"), [("1", 1), ("0042", 42), ("9" * MAX_KEY_DIGITS, 10**18 - 1)]
)
def test_plain_digits_are_a_key(raw, key):
    assert key_from(raw) == key


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        " 1",
        "1 ",
        "-1",
        "+1",
        "1.0",
        "abc",
        "²",
        "٣",
        "१",
        "9" * (MAX_KEY_DIGITS + 1),
        "9" * 5000,
    ],
)
def test_anything_else_is_none(raw):
    assert key_from(raw) is None


def test_the_request_pages_ignore_a_key_that_is_not_one(client, users, community):
    from django.urls import reverse

    client.force_login(users["office"])
    for raw in ("²", "9" * 5000):
        assert client.get(reverse("devices:call_add"), {"learner": raw}).status_code == 200
        asked = {"for": "learner", "learner": raw}
        assert client.get(reverse("devices:exemption_request"), asked).status_code == 200

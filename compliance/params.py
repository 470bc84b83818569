"""A record's key read from a request's query string or form data (issue 3: no input ever
gives a 500)."""

from __future__ import annotations

# fewer digits than 2**63 has: any key a database holds, and never more than `int` reads
MAX_KEY_DIGITS = 18


def key_from(raw: str | None) -> int | None:
    """The key typed in a URL or a form, or None if it is not one: plain ASCII digits, at
    most `MAX_KEY_DIGITS` (`str.isdigit` also takes "²", which `int` refuses)."""
    if raw and len(raw) <= MAX_KEY_DIGITS and raw.isascii() and raw.isdigit():
        return int(raw)
    return None

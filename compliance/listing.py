"""What every row of a long list repeats, worked out once a page (issue 8).

The busiest lists (the triage queue, the approvals queue, the hand-in register, a learner's
chronology) write their cells in Python rather than with template filters and `{% url %}`
in each row: each reversal looks up the request's URL state, and a page may need a hundred.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.urls import reverse
from django.utils import timezone

# a stand-in for a record's key in a reversed URL
_PLACEHOLDER = 987654321

# the month abbreviations as the `date` filter's "M" writes them (the site is in English)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# and as its "F" writes them
FULL_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def url_maker(name: str) -> Callable[[object], str]:
    """`reverse(name, args=[pk])` for each pk of a page, reversing once."""
    url = reverse(name, args=[_PLACEHOLDER])
    return lambda pk: url.replace(str(_PLACEHOLDER), str(pk))


def short_day(day: datetime.date) -> str:
    """A day as `date:"j M Y"` writes it: 7 Sep 2026."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def day_and_time(moment: datetime.datetime) -> str:
    """A moment in local time as `date:"j F Y, H:i"` writes it: 7 September 2026, 09:05."""
    local = timezone.localtime(moment)
    return f"{local.day} {FULL_MONTHS[local.month - 1]} {local.year}, {local:%H:%M}"


def iso_moment(moment: datetime.datetime) -> str:
    """A moment in local time as `date:"c"` writes it, for a <time> element's datetime."""
    return timezone.localtime(moment).isoformat()

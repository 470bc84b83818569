"""Hypothesis strategies for hostile form input: what a careless or malicious person might type.

Values that exist only once a test's records do (a primary key, a record's current version)
are drawn as `Ref`s and resolved just before the request, so shrinking still works on them.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Model
from hypothesis import strategies as st

# Markup that must never reach a page as markup. Each signature is looked for raw in every page.
MARKUP = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    '<a href="javascript:alert(1)">x</a>',
    "<iframe srcdoc='<script>alert(1)</script>'>",
    "{{ request.user.password }}{% debug %}",
)
RAW_SIGNATURES = (
    "<script>alert(1)",
    "onerror=alert(1)>",
    "<svg onload=alert(1)>",
    '<a href="javascript:alert(1)">',
    "<iframe srcdoc=",
)
SQLISH = (
    "' OR '1'='1",
    '" OR ""="',
    "1; DROP TABLE compliance_learner;--",
    "' UNION SELECT username, password FROM compliance_user--",
    "1) OR (1=1",
    "%",
    "_",
    "%_%",
    "\\",
    "\\'",
)
ODD = (
    "\x00",
    "a\x00b",
    "\u202e",  # right-to-left override
    "\u202eexe.txt",
    "\u200f",  # right-to-left mark
    "\u200b",  # zero-width space
    "\ufeff",
    "😀",
    "👩‍👩‍👧‍👦",
    "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇",
    "ﬃ İ ß ǅ",
    "\r\n",
    "\t",
    " ",
    "",
    "None",
    "null",
    "NaN",
    "-1",
    "0",
    "1e309",
    "²",
    "١٢٣",
    "9" * 40,
)
BIG_IDS = ("0", "-1", "999999", str(2**31), str(2**63 - 1), str(2**63), str(2**64), "1.0", " 1")
BAD_DATES = (
    "31/02/2020",
    "2020-02-30",
    "2020-13-01",
    "0000-00-00",
    "00/00/0000",
    "10000-01-01",
    "1/1/1",
    "12/31/2020",
    "2020/01/01",
    "today",
    "-2020-01-01",
    "2020-01-01T00:00",
)
BAD_DATETIMES = (
    "2026-03-29T01:30",  # does not exist in London: the clocks go forward
    "2026-10-25T01:30",  # happens twice in London
    "2020-01-01T25:00",
    "2020-01-01 12:00",
    "2020-01-01",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "now",
)
NAMES = ("Amira", "O'Brien", "Zoë", "Nguyễn", "Smith-Jones", "李", "محمد")


class Omitted:
    """A field left out of the request altogether."""

    def __repr__(self) -> str:
        return "OMITTED"


OMITTED = Omitted()


@dataclass(frozen=True)
class Ref:
    """A value read from the test's records at request time."""

    label: str
    get: Callable[[Any], object]

    def __repr__(self) -> str:
        return f"<{self.label}>"

    def resolve(self, world: Any) -> object:
        return self.get(world)


@dataclass(frozen=True)
class Upload:
    """A file to upload; a fresh file object is made for every request."""

    name: str
    content: bytes

    def __repr__(self) -> str:
        return (
            f"Upload({self.name!r}, {self.content[:300]!r}{'…' if len(self.content) > 300 else ''})"
        )

    def resolve(self, world: Any) -> SimpleUploadedFile:
        return SimpleUploadedFile(self.name, self.content, content_type="text/csv")


def resolve(value: object, world: Any) -> object:
    if isinstance(value, list):
        return [resolve(item, world) for item in value]
    if hasattr(value, "resolve"):
        return value.resolve(world)
    return value


def weighted(*pairs: tuple[int, st.SearchStrategy]) -> st.SearchStrategy:
    """`one_of`, but with weights; shrinks towards the first strategy."""
    branches = [strategy for weight, strategy in pairs for _ in range(weight)]
    return st.one_of(*branches)


def _repeat_to(length: int) -> Callable[[str], str]:
    return lambda s: (s * (length // len(s) + 1))[:length]


def long_text() -> st.SearchStrategy[str]:
    """10,000 characters: more than any field takes, and a lot of page if echoed."""
    return st.one_of(
        st.just("x" * 10_000),
        st.builds(_repeat_to(10_000), st.text(min_size=1, max_size=12)),
        st.builds(_repeat_to(10_000), st.sampled_from(MARKUP + ODD[:10])),
    )


def hostile_text(max_size: int = 200) -> st.SearchStrategy[str]:
    return weighted(
        (3, st.text(max_size=max_size)),
        (2, st.sampled_from(MARKUP + SQLISH + ODD)),
        (
            2,
            st.builds(
                lambda before, markup, after: before + markup + after,
                st.text(max_size=8),
                st.sampled_from(MARKUP),
                st.text(max_size=8),
            ),
        ),
        (1, long_text()),
    )


def plausible_text(max_length: int) -> st.SearchStrategy[str]:
    """Text a field accepts, markup included: what is saved must be shown escaped later."""
    return st.one_of(
        st.sampled_from(NAMES),
        st.sampled_from([m for m in MARKUP + SQLISH if len(m) <= max_length]),
        st.text(
            st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp")),
            min_size=1,
            max_size=min(max_length, 40),
        ),
    )


@dataclass(frozen=True)
class Field:
    """What to type into one field: something it accepts, and something hostile."""

    valid: st.SearchStrategy
    hostile: st.SearchStrategy

    def any(self) -> st.SearchStrategy:
        return weighted((2, self.valid), (3, self.hostile))


def text(max_length: int = 100, *, required: bool = True) -> Field:
    valid = plausible_text(max_length)
    if not required:
        valid = weighted((3, valid), (1, st.just("")))
    return Field(valid, hostile_text())


def numbers() -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers(-(2**70), 2**70).map(str),
        st.floats().map(str),
        st.sampled_from(BIG_IDS),
    )


def pk_at(model: type[Model], index: int, **filters) -> Ref:
    """The index-th (wrapping) existing record of a kind, by primary key."""

    def get(world):
        pks = list(model.objects.filter(**filters).order_by("pk").values_list("pk", flat=True))
        return pks[index % len(pks)] if pks else "1"

    return Ref(f"{model.__name__} #{index}", get)


def existing(model: type[Model], **filters) -> st.SearchStrategy[Ref]:
    return st.integers(0, 7).map(lambda i: pk_at(model, i, **filters))


def ids(model: type[Model], *, required: bool = True, **filters) -> Field:
    """An existing record's key; or one that does not exist, or junk."""
    valid = existing(model, **filters)
    if not required:
        valid = weighted((2, valid), (1, st.just("")))
    return Field(valid, weighted((1, numbers()), (1, hostile_text())))


def id_lists(model: type[Model], **filters) -> Field:
    return Field(
        st.lists(existing(model, **filters), min_size=1, max_size=3),
        st.lists(ids(model, **filters).any(), max_size=4),
    )


def version_of(get_record: Callable[[Any], Model]) -> Field:
    """The version the record is at now (so the save may succeed), or a stale or junk one."""

    def current(world):
        record = get_record(world)
        return type(record).objects.values_list("version", flat=True).get(pk=record.pk)

    return Field(
        st.just(Ref("current version", current)),
        weighted((1, st.integers(-3, 2**64).map(str)), (1, hostile_text())),
    )


def no_version() -> Field:
    """A new record has no version yet: the field is left blank."""
    return Field(st.just(""), weighted((1, numbers()), (1, hostile_text())))


def choices(values, *, required: bool = True) -> Field:
    valid = [str(v) for v in values] + ([] if required else [""])
    return Field(st.sampled_from(valid), hostile_text())


def checkbox() -> Field:
    return Field(
        st.sampled_from(["on", "", "true", "false", "1", "0", "off"]),
        hostile_text(),
    )


def dates(
    low: datetime.date = datetime.date(1990, 1, 1),
    high: datetime.date = datetime.date(2030, 12, 31),
    *,
    required: bool = True,
) -> Field:
    valid = st.dates(low, high).map(datetime.date.isoformat)
    if not required:
        valid = weighted((1, st.just("")), (1, valid))
    return Field(
        valid,
        weighted(
            (1, st.dates().map(lambda d: d.strftime("%d/%m/%Y"))),
            (1, st.dates().map(datetime.date.isoformat)),
            (1, st.sampled_from(BAD_DATES)),
            (2, hostile_text()),
        ),
    )


def datetimes(*, required: bool = True) -> Field:
    valid = st.datetimes(datetime.datetime(2000, 1, 1), datetime.datetime(2030, 12, 31)).map(
        lambda d: d.strftime("%Y-%m-%dT%H:%M")
    )
    if not required:
        valid = weighted((2, st.just("")), (1, valid))
    return Field(
        valid,
        weighted(
            (1, st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M"))),
            (1, st.sampled_from(BAD_DATETIMES)),
            (2, hostile_text()),
        ),
    )


def emails(*, required: bool = False) -> Field:
    valid = st.emails().map(str)
    if not required:
        valid = weighted((2, valid), (1, st.just("")))
    return Field(
        valid,
        weighted(
            (1, st.sampled_from(["a@b", "a@@b.com", "<script>@x.com", "x@[127.0.0.1]"])),
            (2, hostile_text()),
        ),
    )


def passwords() -> Field:
    """Long enough, and unlike anything else about the person: a password that is accepted."""
    return Field(
        st.text(
            st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")),
            min_size=12,
            max_size=40,
        ),
        hostile_text(),
    )


def phones() -> Field:
    return Field(st.from_regex(r"\A\+?[0-9][0-9 ]{5,19}\Z"), hostile_text())


def form(fields: dict[str, Field | st.SearchStrategy]) -> st.SearchStrategy[dict]:
    """A request's fields: every one acceptable to its field, or a hostile mix (now and then a
    field left out). Acceptable requests are saved, so what is saved is shown again later."""

    def strategies(polite: bool) -> dict[str, st.SearchStrategy]:
        chosen = {}
        for name, field in fields.items():
            if not isinstance(field, Field):
                field = Field(field, field)
            chosen[name] = (
                field.valid if polite else weighted((9, field.any()), (1, st.just(OMITTED)))
            )
        return chosen

    return st.booleans().flatmap(lambda polite: st.fixed_dictionaries(strategies(polite)))


# MIS import files


def _header_name(draw, name: str) -> str:
    style = draw(st.sampled_from(["as is", "title", "spaced", "upper"]))
    if style == "title":
        return name.replace("_", " ").title()
    if style == "spaced":
        return f" {name} "
    if style == "upper":
        return name.upper()
    return name


# Cells an import accepts. A year group goes with a class of that year (3A is a Year 3 class).
_YEARS_AND_CLASSES = [
    ("3", "3A"),
    ("Year 3", "3B"),
    ("R", "Robins"),
    ("Reception", "Robins"),
    ("Y4", "<b>Owls</b>"),
    ("yr6", "\u202eslwO"),
]
_CELLS = {
    "upn": st.from_regex(r"\A[A-Z][0-9]{3,12}\Z"),
    "staff_id": st.from_regex(r"\AS[0-9]{1,6}\Z"),
    "date_of_birth": st.dates(datetime.date(2015, 1, 1), datetime.date(2021, 12, 31)).map(
        lambda d: d.strftime("%d/%m/%Y")
    ),
    "joined": st.sampled_from(["", "01/09/2022", "2023-09-04"]),
    "left": st.just(""),
    "staff_type": st.sampled_from(["Teaching", "support", "CONTRACTOR", "Volunteer"]),
    "active": st.sampled_from(["", "yes", "no", "Y", "0"]),
    "relationship": st.sampled_from(["Mother", "dad", "Carer", "step father", "Foster carer"]),
    "phone": st.sampled_from(["07700 900001", "01632 960000"]),
    "email": st.sampled_from(["", "a@example.com", "o'brien@example.com"]),
}
_CONTACT = ("contact1_first_name", "contact1_last_name", "contact1_relationship", "contact1_phone")


def _valid_cell(column: str) -> st.SearchStrategy[str]:
    for key, strategy in _CELLS.items():
        if column == key or column.endswith("_" + key):
            return strategy
    return plausible_text(50)


def _valid_row(draw, columns: list[str]) -> list[str]:
    cells = {column: draw(_valid_cell(column)) for column in columns}
    if "year_group" in cells:
        cells["year_group"], cells["class"] = draw(st.sampled_from(_YEARS_AND_CLASSES))
    return [cells[column] for column in columns]


@st.composite
def csv_uploads(
    draw, *, required: tuple[str, ...], optional: tuple[str, ...], valid: bool
) -> Upload:
    """A CSV export: a good one (`valid`), or one broken in some way or full of hostile cells."""
    columns = list(draw(st.permutations(required)))
    if valid:
        extra = [c for c in optional if not c.startswith("contact")]
        columns += draw(st.lists(st.sampled_from(extra), unique=True, max_size=3))
        if "upn" in required and draw(st.booleans()):
            columns += _CONTACT
        rows = [_valid_row(draw, columns) for _ in range(draw(st.integers(1, 3)))]
        header = [_header_name(draw, name) for name in columns]
        return Upload("export.csv", _csv([header, *rows], "\r\n").encode())

    columns += draw(st.lists(st.sampled_from(optional), unique=True, max_size=5))
    columns = draw(
        weighted(
            (6, st.just(columns)),
            (1, st.just(columns[1:])),  # a required column missing
            (1, st.just([*columns, columns[0]])),  # a column twice
            (1, st.just([*columns, "<script>alert(1)</script>"])),
        )
    )
    header = [_header_name(draw, name) for name in columns]
    rows = [
        [draw(st.one_of(_valid_cell(column), hostile_text())) for column in columns]
        for _ in range(draw(st.integers(0, 4)))
    ]
    text = _csv([header, *rows], draw(st.sampled_from(["\r\n", "\n"])))
    content = draw(
        weighted(
            (6, st.just(text.encode("utf-8"))),
            (1, st.just(text.encode("utf-8-sig"))),
            (1, st.just(text.encode("utf-16"))),
            (1, st.just(text.encode("cp1252", errors="replace") + b"\xe9\xff")),
            (1, st.just(text.encode() + b"\x00,\x00\n")),
            (1, st.just(text.encode() + b'"unclosed,quote\n')),
            (1, hostile_text().map(lambda s: s.encode("utf-8"))),
            (1, st.binary(max_size=500)),
        )
    )
    name = draw(
        weighted(
            (6, st.just("export.csv")),
            (1, st.sampled_from(["EXPORT.CSV", "export.txt", "export", ".csv", "export.csv.exe"])),
            (1, st.sampled_from(MARKUP).map(lambda m: m.replace("/", "") + ".csv")),
            (1, st.just("x" * 300 + ".csv")),
        )
    )
    return Upload(name, content)


def _csv(rows: list[list[str]], lineterminator: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=lineterminator).writerows(rows)
    return buffer.getvalue()

"""The benchmark's reference page (compliance/views/reference.py): a list of visits, so
whoever may see visits opens it (the office, the DSL team, the headteacher)."""

from tests.authz import SENIOR_OFFICE

MATRIX: dict[str, tuple[int, ...]] = {
    "compliance:reference": SENIOR_OFFICE,
}

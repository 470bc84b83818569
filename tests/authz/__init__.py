"""The checked-in table of who may open which page (GET), one module per area.

Each module in this package defines MATRIX (URL name -> expected status per role, in
ROLES order) and may define `url_kwargs(name, community) -> dict | None` giving the
arguments for its URLs (it may create the records it needs). A URL pattern missing from
every module fails `test_every_url_is_in_the_matrix`. 302 is the redirect to the login
page; 403 a refusal; 404 a record the user may not know of; 405 a POST-only URL.
"""

import importlib
import pkgutil

ROLES = ("anonymous", "outsider", "governor", "staff", "office", "deputy_dsl", "headteacher", "dsl")

#              anon outsider gov  staff office deputy head  dsl
EVERYONE = (302, 200, 200, 200, 200, 200, 200, 200)
ANY_ROLE = (302, 403, 200, 200, 200, 200, 200, 200)
SENIOR_OFFICE = (302, 403, 403, 403, 200, 200, 200, 200)
WITH_TEACHERS = (302, 403, 403, 200, 200, 200, 200, 200)
EDITORS = (302, 403, 403, 403, 200, 403, 200, 200)
DSL_HEAD = (302, 403, 403, 403, 403, 403, 200, 200)
DSL_DEPUTIES = (302, 403, 403, 403, 403, 200, 200, 200)
DSL_OFFICE = (302, 403, 403, 403, 200, 403, 403, 200)
DSL_ONLY = (302, 403, 403, 403, 403, 403, 403, 200)
POST_ONLY = (302, 405, 405, 405, 405, 405, 405, 405)


def areas():
    for info in pkgutil.iter_modules(__path__):
        yield importlib.import_module(f"{__name__}.{info.name}")


def matrix() -> dict[str, tuple[int, ...]]:
    merged: dict[str, tuple[int, ...]] = {}
    for area in areas():
        clash = set(merged) & set(area.MATRIX)
        assert not clash, f"{area.__name__} repeats rows: {sorted(clash)}"
        merged.update(area.MATRIX)
    return merged


def url_kwargs(name: str, community: dict) -> dict:
    for area in areas():
        finder = getattr(area, "url_kwargs", None)
        if name in area.MATRIX and finder is not None:
            found = finder(name, community)
            if found is not None:
                return found
    return {}

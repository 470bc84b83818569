"""The daily hand-in register (section 6).

A teacher keeps the register of their own class (the fixture's teacher teaches 3A, used
here, so staff get 200); the office, the DSL team and the headteacher keep any class's.
The whole-school day view is for the office, the DSL team and the headteacher. The
actions are POST-only; what they refuse, and to whom, is in tests/test_handin.py.
"""

from tests.authz import POST_ONLY, SENIOR_OFFICE, WITH_TEACHERS

# a row's folded actions: fetched by htmx when the fold is opened; a plain GET (as here) goes
# back to the register with them open (302), for whoever keeps the learner's register
#                anon outsider gov  staff office deputy head  dsl
FOLDED_ACTIONS = (302, 403, 403, 302, 302, 302, 302, 302)

MATRIX: dict[str, tuple[int, ...]] = {
    "devices:handin_index": WITH_TEACHERS,
    "devices:handin_school": SENIOR_OFFICE,
    "devices:handin_uncollected": WITH_TEACHERS,
    "devices:handin_class": WITH_TEACHERS,
    "devices:handin_mark_class": POST_ONLY,
    "devices:handin_mark": POST_ONLY,
    "devices:handin_undo": POST_ONLY,
    "devices:handin_collect": POST_ONLY,
    "devices:handin_exception": POST_ONLY,
    "devices:handin_actions": FOLDED_ACTIONS,
    "devices:handin_exception_withdraw": POST_ONLY,
}


def url_kwargs(name: str, objects: dict) -> dict | None:
    if name in {"devices:handin_class", "devices:handin_mark_class"}:
        return {"pk": objects["my_class"].pk}
    if name in {
        "devices:handin_mark",
        "devices:handin_undo",
        "devices:handin_collect",
        "devices:handin_exception",
        "devices:handin_actions",
    }:
        return {"pk": objects["learner"].pk}
    if name == "devices:handin_exception_withdraw":
        return {"pk": 1}  # POST-only: a GET is refused before the record is looked up
    return None

"""The checked-in table of who may open which page (GET).

One row per URL name; columns in ROLES order. A URL pattern missing from this
table fails `test_every_url_is_in_the_matrix`. 302 is the redirect to the login
page; 403 a refusal; 404 a record the user may not know of; 405 a POST-only URL.
"""

ROLES = ("anonymous", "outsider", "governor", "staff", "office", "deputy_dsl", "headteacher", "dsl")

#                anon outsider gov  staff office deputy head  dsl
_EVERYONE = (302, 200, 200, 200, 200, 200, 200, 200)
_ANY_ROLE = (302, 403, 200, 200, 200, 200, 200, 200)
_SENIOR_OFFICE = (302, 403, 403, 403, 200, 200, 200, 200)
_WITH_TEACHERS = (302, 403, 403, 200, 200, 200, 200, 200)
_EDITORS = (302, 403, 403, 403, 200, 403, 200, 200)
_DSL_HEAD = (302, 403, 403, 403, 403, 403, 200, 200)
_DSL_OFFICE = (302, 403, 403, 403, 200, 403, 403, 200)
_DSL_ONLY = (302, 403, 403, 403, 403, 403, 403, 200)

MATRIX: dict[str, tuple[int, ...]] = {
    "login": (200, 200, 200, 200, 200, 200, 200, 200),
    "logout": (302, 405, 405, 405, 405, 405, 405, 405),
    "password_change": _EVERYONE,
    "password_change_done": _EVERYONE,
    "dashboard": _EVERYONE,
    "compliance:school": _ANY_ROLE,
    "compliance:school_edit": _DSL_HEAD,
    "compliance:staff_list": _SENIOR_OFFICE,
    "compliance:staff_add": _EDITORS,
    "compliance:staff_detail": _SENIOR_OFFICE,
    "compliance:staff_edit": _EDITORS,
    "compliance:staff_login": _DSL_HEAD,
    "compliance:class_list": _WITH_TEACHERS,
    "compliance:class_add": _EDITORS,
    "compliance:class_detail": _WITH_TEACHERS,
    "compliance:class_edit": _EDITORS,
    "compliance:learner_list": _WITH_TEACHERS,
    "compliance:learner_add": _EDITORS,
    "compliance:learner_detail": _WITH_TEACHERS,
    "compliance:learner_edit": _EDITORS,
    "compliance:parent_list": _WITH_TEACHERS,
    "compliance:parent_add": _EDITORS,
    "compliance:parent_detail": _WITH_TEACHERS,
    "compliance:parent_edit": _EDITORS,
    "compliance:visitor_list": _SENIOR_OFFICE,
    "compliance:visitor_add": _SENIOR_OFFICE,
    "compliance:visitor_detail": _SENIOR_OFFICE,
    "compliance:visitor_edit": _SENIOR_OFFICE,
    "compliance:visit_list": _SENIOR_OFFICE,
    "compliance:visit_add": _SENIOR_OFFICE,
    "compliance:visit_detail": _SENIOR_OFFICE,
    "compliance:visit_edit": _SENIOR_OFFICE,
    "compliance:import": _DSL_OFFICE,
    # the history of a learner: the DSL, and those who may change learners
    "compliance:history": _EDITORS,
    "compliance:audit": _DSL_ONLY,
}

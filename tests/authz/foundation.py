"""The foundation's pages: login, dashboard, the school community, history and audit."""

from tests.authz import (
    ANY_ROLE,
    DSL_HEAD,
    DSL_OFFICE,
    DSL_ONLY,
    EDITORS,
    EVERYONE,
    POST_ONLY,
    SENIOR_OFFICE,
    WITH_TEACHERS,
)

MATRIX: dict[str, tuple[int, ...]] = {
    "login": (200, 200, 200, 200, 200, 200, 200, 200),
    "logout": (302, 405, 405, 405, 405, 405, 405, 405),
    "password_change": EVERYONE,
    "password_change_done": EVERYONE,
    "dashboard": EVERYONE,
    "compliance:school": ANY_ROLE,
    "compliance:school_edit": DSL_HEAD,
    "compliance:staff_list": SENIOR_OFFICE,
    "compliance:staff_add": EDITORS,
    "compliance:staff_detail": SENIOR_OFFICE,
    "compliance:staff_edit": EDITORS,
    "compliance:staff_login": DSL_HEAD,
    "compliance:class_list": WITH_TEACHERS,
    "compliance:class_add": EDITORS,
    "compliance:class_detail": WITH_TEACHERS,
    "compliance:class_edit": EDITORS,
    "compliance:learner_list": WITH_TEACHERS,
    "compliance:learner_add": EDITORS,
    "compliance:learner_detail": WITH_TEACHERS,
    "compliance:learner_edit": EDITORS,
    "compliance:parent_list": WITH_TEACHERS,
    "compliance:parent_add": EDITORS,
    "compliance:parent_detail": WITH_TEACHERS,
    "compliance:parent_edit": EDITORS,
    "compliance:visitor_list": SENIOR_OFFICE,
    "compliance:visitor_add": SENIOR_OFFICE,
    "compliance:visitor_detail": SENIOR_OFFICE,
    "compliance:visitor_edit": SENIOR_OFFICE,
    "compliance:visit_list": SENIOR_OFFICE,
    "compliance:visit_add": SENIOR_OFFICE,
    "compliance:visit_detail": SENIOR_OFFICE,
    "compliance:visit_edit": SENIOR_OFFICE,
    "compliance:import": DSL_OFFICE,
    "compliance:acknowledge": POST_ONLY,
    # the history of a learner: the DSL, and those who may change learners
    "compliance:history": EDITORS,
    "compliance:audit": DSL_ONLY,
    "compliance:access_log": DSL_ONLY,
}


def url_kwargs(name: str, objects: dict) -> dict | None:
    by_name = {
        "compliance:staff_detail": {"pk": objects["staff"].pk},
        "compliance:staff_edit": {"pk": objects["staff"].pk},
        "compliance:staff_login": {"pk": objects["staff"].pk},
        "compliance:class_detail": {"pk": objects["my_class"].pk},
        "compliance:class_edit": {"pk": objects["my_class"].pk},
        "compliance:learner_detail": {"pk": objects["learner"].pk},
        "compliance:learner_edit": {"pk": objects["learner"].pk},
        "compliance:parent_detail": {"pk": objects["parent"].pk},
        "compliance:parent_edit": {"pk": objects["parent"].pk},
        "compliance:visitor_detail": {"pk": objects["visitor"].pk},
        "compliance:visitor_edit": {"pk": objects["visitor"].pk},
        "compliance:visit_detail": {"pk": objects["visit"].pk},
        "compliance:visit_edit": {"pk": objects["visit"].pk},
        "compliance:history": {"kind": "learner", "pk": objects["learner"].pk},
    }
    return by_name.get(name)

"""Subject access: the DSL finds a person and exports everything held on them."""

from tests.authz import DSL_ONLY, POST_ONLY

MATRIX: dict[str, tuple[int, ...]] = {
    "compliance:subject_access_choose": DSL_ONLY,
    # the export is POST-only; a refused role is shown in tests/test_subject_access.py
    "compliance:subject_access_export": POST_ONLY,
}


def url_kwargs(name: str, objects: dict) -> dict | None:
    if name == "compliance:subject_access_export":
        return {"kind": "learner", "pk": objects["learner"].pk}
    return None

"""Pre-existing relationship declarations (policy section 5).

Staff declare and see their own; the DSL, deputies and the headteacher see every
declaration; the DSL or the headteacher records the discussion; governors and the office
see none. The declaration used here is the teacher's own (so the staff row is 200 on its
page); another member of staff's is 404 to the teacher (tests/test_relationships.py).
"""

from compliance import relationship_services as rel
from compliance.models import RelationshipDeclaration
from tests.authz import DSL_DEPUTIES, DSL_HEAD, POST_ONLY

#                 anon outsider gov  staff office deputy head  dsl
DECLARERS = (302, 403, 403, 200, 403, 200, 200, 200)

MATRIX: dict[str, tuple[int, ...]] = {
    "compliance:relationship_list": DSL_DEPUTIES,
    "compliance:relationship_mine": DECLARERS,
    "compliance:relationship_declare": DECLARERS,
    "compliance:relationship_detail": DECLARERS,
    "compliance:relationship_discuss": DSL_HEAD,
    "compliance:relationship_confirm": POST_ONLY,
    "compliance:relationship_end": POST_ONLY,
}


def url_kwargs(name: str, objects: dict) -> dict | None:
    if name in (
        "compliance:relationship_detail",
        "compliance:relationship_discuss",
        "compliance:relationship_confirm",
        "compliance:relationship_end",
    ):
        declaration = RelationshipDeclaration.objects.filter(staff=objects["staff"]).first()
        if declaration is None:
            declaration = rel.declaration_create(
                by=objects["staff"].user,
                relationship_with="learner",
                kind="relative",
                who="My nephew, Year 4",
                nature="Family gatherings.",
            )
        return {"pk": declaration.pk}
    return None

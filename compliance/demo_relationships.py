"""Demo declarations of pre-existing relationships (section 5), one in every state.

Registered with `seed_demo` (compliance.demo). Made once (when none exist), through
compliance.relationship_services so the history is real.
"""

from __future__ import annotations

from compliance import relationship_services as rel
from compliance.demo import DemoContext, acting_as
from compliance.models import Learner, RelationshipDeclaration

With = RelationshipDeclaration.With
Kind = RelationshipDeclaration.Kind


def seed(ctx: DemoContext) -> str:
    teacher, deputy, dsl, head = (
        ctx.users.get(name) for name in ("teacher", "deputy", "dsl", "head")
    )
    if not all((teacher, dsl, head)):
        return "Relationships demo: skipped (no teacher, DSL or headteacher login)."
    if RelationshipDeclaration.objects.exists():
        return "Relationships demo: already there."
    learner = Learner.objects.filter(left__isnull=True).order_by("pk").first()
    who = f"{learner.first_name} {learner.last_name}" if learner else "A learner in Year 4"
    with acting_as(teacher):
        awaiting = rel.declaration_create(
            by=teacher,
            relationship_with=With.FAMILY,
            kind=Kind.FRIEND,
            who=f"The family of {who}",
            nature="Our children play for the same football club; the parents message me.",
        )
        discussed = rel.declaration_create(
            by=teacher,
            relationship_with=With.LEARNER,
            kind=Kind.RELATIVE,
            who=f"{who} (my niece)",
            nature="I see her at family gatherings and her mother is my sister.",
        )
        ended = rel.declaration_create(
            by=teacher,
            relationship_with=With.PARENT,
            kind=Kind.NEIGHBOUR,
            who="A parent of a Year 2 learner, next door to me",
            nature="We share a drive; they sometimes ask about school at home.",
        )
    with acting_as(dsl):
        rel.declaration_discuss(
            declaration=discussed,
            by=dsl,
            discussed_on=ctx.today,
            discussed_with_dsl=dsl,
            discussed_with_head=head,
            outcome="Family contact is private life; school matters go through the office.",
            arrangements="No school matters by personal phone or messages; "
            "refer her mother to the office or the class email.",
            learners=[learner] if learner else [],
        )
    with acting_as(teacher):
        rel.declaration_end(
            declaration=ended, by=teacher, reason="They have moved away and left the school."
        )
    return f"Relationships demo: 3 declarations ({awaiting.reference} awaiting discussion)."

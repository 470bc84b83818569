from django.utils.functional import SimpleLazyObject

from compliance.models import School
from compliance.selectors import current_policy


def school(request) -> dict:
    """The school's name and the policy's next review date, for the layout (read lazily)."""
    return {
        "school": SimpleLazyObject(School.current),
        "policy": SimpleLazyObject(current_policy),
    }

from django.utils.functional import SimpleLazyObject

from compliance.selectors import request_policy, request_school


def school(request) -> dict:
    """The school's name and the policy's next review date, for the layout (read lazily)."""
    return {
        "school": SimpleLazyObject(lambda: request_school(request)),
        "policy": SimpleLazyObject(lambda: request_policy(request)),
    }

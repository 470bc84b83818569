"""The school device register (section 4) and the device categories (section 1).

The register is kept by the office, the DSL and the headteacher (`devices.access`); the
categories are read by everyone who works with devices or learners. The actions are
POST-only; who may take which, and the refusals, are in tests/test_school_devices.py.
"""

from tests import factories
from tests.authz import EDITORS, POST_ONLY, WITH_TEACHERS

MATRIX: dict[str, tuple[int, ...]] = {
    "devices:category_list": WITH_TEACHERS,
    "devices:device_list": EDITORS,
    "devices:device_add": EDITORS,
    "devices:device_detail": EDITORS,
    "devices:device_edit": EDITORS,
    "devices:device_issue": POST_ONLY,
    "devices:device_return": POST_ONLY,
    "devices:device_report_lost": POST_ONLY,
}

_WITH_DEVICE = {
    "devices:device_detail",
    "devices:device_edit",
    "devices:device_issue",
    "devices:device_return",
    "devices:device_report_lost",
}


def url_kwargs(name: str, objects: dict) -> dict | None:
    if name in _WITH_DEVICE:
        return {"pk": factories.SchoolDeviceFactory().pk}
    return None

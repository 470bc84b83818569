"""Browser tests: Chromium (Debian's, not Playwright's download) driven through Playwright."""

import os
from pathlib import Path

import pytest

from tests import factories

# Playwright's sync API runs an event loop in the test thread; the ORM must still work there.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

# The same binary tests/conftest.py hands to Playwright (browser_type_launch_args).
CHROMIUM = Path("/usr/bin/chromium")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """No Chromium: skip on a developer's machine, but fail loudly in CI."""
    if item.get_closest_marker("browser") is None or CHROMIUM.exists():
        return
    message = (
        f"Chromium is not installed at {CHROMIUM}; the browser tests need it "
        "(apt-get install chromium). Playwright's own browser download is not used."
    )
    if "CI" in os.environ:
        pytest.fail(f"{message} CI is set, so this is a failure, not a skip.", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def seeded(live_server, transactional_db, django_db_serialized_rollback, users, community):
    """Everyone, a small school and a policy version, in the database the live server reads.

    live_server needs a transactional database, which is flushed after each test; serialized
    rollback restores what the migrations put there (the role groups) before the next one.
    """
    policy = factories.PolicyVersionFactory()
    return {"users": users, "community": community, "policy": policy}

"""Every URL pattern, every role, against the checked-in table in tests/authz/."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.authz import ROLES, matrix, url_kwargs

MATRIX = matrix()


def _named_patterns(resolver=None, namespace: str = "") -> set[str]:
    names: set[str] = set()
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}{pattern.namespace}:"
            names |= _named_patterns(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}{pattern.name}")
    return names


def _project_patterns() -> set[str]:
    # The Django admin is tested as a whole below: it holds logins only.
    return {name for name in _named_patterns() if not name.startswith("admin:")}


def test_every_url_is_in_the_matrix():
    missing = _project_patterns() - set(MATRIX)
    assert not missing, f"URL patterns missing from tests/authz/: {sorted(missing)}"
    stale = set(MATRIX) - _project_patterns()
    assert not stale, f"Rows for URLs that no longer exist: {sorted(stale)}"


def _url_for(name: str, objects: dict) -> str:
    return reverse(name, kwargs=url_kwargs(name, objects))


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_matrix(client, users, community, name):
    url = _url_for(name, community)
    for role, expected in zip(ROLES, MATRIX[name], strict=True):
        client.logout()
        if role != "anonymous":
            client.force_login(users[role])
        response = client.get(url)
        assert response.status_code == expected, f"{name} as {role}: {response.status_code}"
        if expected == 302 and role == "anonymous":
            assert response["Location"].startswith(reverse("login")), name


@pytest.mark.django_db
def test_admin_is_closed_to_every_role(client, users):
    """The admin holds logins only and is for superusers; no role reaches it."""
    for role, user in users.items():
        client.force_login(user)
        response = client.get(reverse("admin:index"))
        assert response.status_code == 302, role
        assert "/admin/login/" in response["Location"], role

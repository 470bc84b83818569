"""compliance.selectors.joined: select_related only for the relations named."""

from compliance.models import Visit
from compliance.selectors import joined
from incidents.models import Note


def test_no_names_join_nothing():
    # select_related() itself would join every non-null relation, and theirs in turn
    assert "JOIN" in str(Note.objects.select_related().query)
    assert "JOIN" not in str(joined(Note.objects.all(), ()).query)


def test_the_names_given_are_joined_and_no_others():
    sql = str(joined(Visit.objects.all(), ["visitor"]).query)
    assert 'JOIN "compliance_visitor"' in sql
    assert sql.count("JOIN") == 1

"""permissions.idquery: a compiled statement reused for other ids gives what the ORM gives."""

import pytest

from permissions import idquery
from permissions.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def test_rows_match_the_queryset_and_the_statement_is_reused():
    from permissions.models import Membership

    members = [MembershipFactory() for _ in range(3)]
    fields = ("user_id", "organization__name", "organization__created_at", "organization__status")

    def build(id_list):
        return (
            Membership.objects.filter(user_id__in=id_list).order_by("user_id").values_list(*fields)
        )

    for chosen in ([members[0]], [members[1], members[2]], members):
        ids = [m.user_id for m in chosen]
        expected = list(
            Membership.objects.filter(user_id__in=ids).order_by("user_id").values_list(*fields)
        )
        assert idquery.rows_for_ids("test.members", build, ids) == expected
    assert sum(1 for key in idquery._compiled if key[-1] == "test.members") == 1
    assert idquery.rows_for_ids("test.members", build, []) == []

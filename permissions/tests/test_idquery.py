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


def test_statements_with_named_parameters_match_the_queryset():
    """rows_for_params / count_for_params / window / raw_param: one statement per key, the
    values of each call in place of the placeholders, the same rows as the ORM."""
    from permissions.models import Membership
    from permissions.tests.factories import TierFactory

    tiers = [TierFactory(key="t1", rank=1), TierFactory(key="t2", rank=2)]
    members = [MembershipFactory(organization__tier=tiers[n % 2]) for n in range(7)]
    fields = ("user_id", "organization__name", "organization__created_at")
    ordered = ("-organization__created_at", "-user_id")

    def build():
        return (
            Membership.objects.filter(organization__tier__key=idquery.param("tier"))
            .exclude(user_id=idquery.raw_param("skip"))
            .order_by(*ordered)
            .values_list(*fields)
        )

    def page_build():
        ids = (
            Membership.objects.filter(organization__tier__key=idquery.param("tier"))
            .order_by(*ordered)
            .values_list("pk")
        )
        return (
            Membership.objects.filter(pk__in=idquery.window(ids))
            .order_by(*ordered)
            .values_list(*fields)
        )

    for tier in (t.key for t in tiers):
        for skip in (members[0].user_id, members[1].user_id):
            qs = Membership.objects.filter(organization__tier__key=tier).exclude(user_id=skip)
            expected = list(qs.order_by(*ordered).values_list(*fields))
            values = {"tier": tier, "skip": skip}
            assert idquery.rows_for_params("test.params", build, values) == expected
            assert (
                idquery.rows_for_params("test.params", build, values, limit=2, offset=1)
                == (expected[1:3])
            )
            for upto in (1, 2, 100):
                count = idquery.count_for_params("test.params", build, values, upto=upto)
                assert count == min(len(expected), upto)
        everyone = list(
            Membership.objects.filter(organization__tier__key=tier)
            .order_by(*ordered)
            .values_list(*fields)
        )
        for offset in (0, 1, 3):
            values = {"tier": tier, "limit": 2, "offset": offset}
            assert (
                idquery.rows_for_params("test.window", page_build, values)
                == (everyone[offset : offset + 2])
            )
    compiled = [key for key in idquery._compiled if "test.params" in str(key)]
    assert len(compiled) == 2  # rows and count, once each


def test_a_placeholder_the_statement_does_not_carry_is_refused():
    from permissions.models import Membership

    def build():  # contains wraps the value in % signs: the placeholder is lost
        return Membership.objects.filter(
            organization__name__contains=idquery.param("name")
        ).values_list("pk")

    with pytest.raises(ValueError, match="placeholders not found"):
        idquery.rows_for_params("test.lost", build, {"name": "x"})

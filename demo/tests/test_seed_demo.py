"""``manage.py seed_demo`` builds the demo of docs/demo.md through the services, idempotently.

The demo is the session's (tests/fixtures.py: seeded once per test session inside a transaction
that is rolled back after the last test using it; the test database is reused between runs, so
nothing may stay behind); this module runs in its own savepoint on top of it and each test in its
own savepoint inside that.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from wagtail.models import Locale, Revision

from demo.builder import ITEM_TAGS, ITEMS, ORGANIZATIONS, USERS
from kb.models import (
    ItemKey,
    LibraryIndexPage,
    MarketingAssetPage,
    PortalItemPage,
    ProductSheetPage,
    TrainingGuidePage,
)
from kb.services import library_for_locale, sorted_tag_names, tag_normalise
from permissions.models import (
    EXCEPTION_CODENAME,
    GRANT_CODENAME,
    Membership,
    PageGroupObjectPermission,
    PartnerOrganization,
    Tier,
)
from permissions.policies.pages import page_policy
from tests.fixtures import demo_assets

pytestmark = pytest.mark.django_db

DEMO_ORG_KEYS = [o.key for o in ORGANIZATIONS]


@pytest.fixture(scope="module")
def seeded(demo):
    """What the session's first ``seed_demo`` printed."""
    return demo


def user(email: str):
    # A fresh object each time: the policy caches the principal on the user object.
    return get_user_model().objects.get(email=email)


def item(key: str) -> PortalItemPage:
    return ItemKey.objects.get(key=key).page.specific


def demo_items():
    return PortalItemPage.objects.filter(item_key__key__startswith="demo-")


def test_command_prints_counts_and_logins(seeded):
    assert "Demo content" in seeded
    for spec in USERS:
        assert spec.email in seeded
        assert spec.password in seeded


def test_partner_world(seeded):
    assert list(Tier.objects.filter(key__in=["registered", "silver", "gold", "platinum"])) == [
        Tier.objects.get(key=k) for k in ("registered", "silver", "gold", "platinum")
    ]  # ordered by rank
    orgs = PartnerOrganization.objects.filter(key__in=DEMO_ORG_KEYS)
    assert orgs.count() >= 8
    assert {o.tier.key for o in orgs} == {"registered", "silver", "gold", "platinum"}
    assert {o.region.key for o in orgs} >= {"dach", "emea", "apac", "na", "latam"}
    assert {o.partner_type.key for o in orgs} == {
        "reseller",
        "distributor",
        "referral",
        "technology",
    }
    assert orgs.filter(status=PartnerOrganization.Status.SUSPENDED).count() == 1
    assert all(o.logo and o.contact_block for o in orgs)

    acme = PartnerOrganization.objects.get(key="acme")
    assert (acme.name, acme.tier.key, acme.region.key, acme.partner_type.key) == (
        "Acme GmbH",
        "gold",
        "dach",
        "reseller",
    )
    assert acme.region.parent.key == "emea"

    User = get_user_model()
    assert User.objects.filter(email__in=[u.email for u in USERS]).count() >= 12
    for spec in USERS:
        assert user(spec.email).check_password(spec.password), spec.email
    anna = user("anna@acme.example")
    assert (anna.preferred_language, anna.time_zone) == ("de", "Europe/Berlin")
    assert anna.membership.organization == acme
    # The digest e-mail is on for Anna and Petr only (docs/demo.md).
    daily = User.objects.filter(email__in=[u.email for u in USERS], digest_frequency="daily")
    assert {u.email for u in daily} == {"anna@acme.example", "petr@brightline.example"}
    tomas = Membership.objects.get(user__email="tomas@conexa.example")
    assert tomas.role == Membership.Role.ADMIN
    assert (tomas.organization.region.key, tomas.organization.partner_type.key) == (
        "latam",
        "distributor",
    )
    assert Membership.objects.filter(role=Membership.Role.MEMBER).exists()
    eva, jiri, admin = (user(f"{n}@vendor.example") for n in ("eva", "jiri", "admin"))
    assert eva.is_staff and eva.groups.filter(name="Editors").exists()
    assert jiri.is_staff and jiri.preferred_language == "cs"
    assert jiri.groups.filter(name="Marketers").exists()
    assert admin.is_superuser and admin.is_staff


def test_content_counts_files_and_dates(seeded):
    items = demo_items()
    assert ProductSheetPage.objects.filter(pk__in=items).count() >= 5
    assert TrainingGuidePage.objects.filter(pk__in=items).count() >= 3
    assert MarketingAssetPage.objects.filter(pk__in=items).count() >= 12
    assert items.filter(cover_image__isnull=True).count() == 0

    assets = MarketingAssetPage.objects.filter(pk__in=items)
    assert not assets.filter(asset_kind__in=["banner", "social"], master_image__isnull=True)
    brochures = assets.filter(asset_kind="brochure")
    assert brochures and not brochures.filter(master_document__isnull=True)
    with brochures.first().master_document.file.open("rb") as f:
        assert f.read(5) == b"%PDF-"

    x1 = item("demo-x1-datasheet")
    assert {a.title[-4:] for a in x1.attachments.all()} == {"(EN)"}
    # The German PDF is the German translation's localized file of it.
    german = item("demo-de-x1-datasheet")
    assert german.attachments.get().master.page_id == x1.pk
    assert x1.version_label and len(x1.specifications) >= 5 and x1.change_note
    guide = item("demo-x1-install-guide")
    assert guide.modules and guide.modules[0].value["steps"]

    now = timezone.now()
    dates = list(items.live().values_list("first_published_at", flat=True))
    assert all(now - timedelta(days=61) <= d <= now for d in dates)
    assert any(d >= now - timedelta(days=30) for d in dates)
    assert any(d < now - timedelta(days=30) for d in dates)


def test_every_audience_rule_is_exercised(seeded):
    items = demo_items()
    assert items.filter(audience_min_tier__isnull=False).exists()
    assert items.filter(audience_regions__key="dach").exists()
    assert items.filter(audience_regions__key="emea").exists()
    assert items.filter(audience_partner_types__isnull=False).exists()
    assert items.filter(audience_public=True).exists()
    for codename in (GRANT_CODENAME, EXCEPTION_CODENAME):
        assert PageGroupObjectPermission.objects.filter(
            permission__codename=codename, content_object__in=items
        ).exists()
    child = item("demo-x1-brochure")
    assert child.get_parent().specific == item("demo-x1-datasheet")
    lounge = LibraryIndexPage.objects.get(slug="platinum-lounge")
    assert lounge.audience_min_tier.key == "platinum"
    assert PortalItemPage.objects.child_of(lounge).exists()


def test_locales_have_items(seeded):
    assert set(Locale.objects.values_list("language_code", flat=True)) >= {"en", "de", "cs"}
    for language in ("de", "cs"):
        library = library_for_locale(language)
        assert (
            PortalItemPage.objects.descendant_of(library)
            .filter(locale__language_code=language)
            .exists()
        )


def test_journeys_visibility(seeded):
    anna = user("anna@acme.example")
    assert page_policy.can_view(anna, item("demo-x1-datasheet"))
    assert page_policy.can_view(anna, item("demo-x1-brochure"))

    ravi = user("ravi@kestrel.example")
    assert ravi.membership.organization.status == PartnerOrganization.Status.SUSPENDED
    assert PortalItemPage.objects.live().visible_to(ravi).count() == 0

    brochure = item("demo-x1-brochure")
    assert brochure.audience_min_tier.key == "gold"
    granted, other = user("petr@brightline.example"), user("claire@lumiere.example")
    assert granted.membership.organization.tier.key == "silver"
    assert other.membership.organization.tier.key == "silver"
    assert page_policy.can_view(granted, brochure)
    assert PortalItemPage.objects.visible_to(granted).filter(pk=brochure.pk).exists()
    assert not page_policy.can_view(other, brochure)
    assert not PortalItemPage.objects.visible_to(other).filter(pk=brochure.pk).exists()

    public = PortalItemPage.objects.live().visible_to(AnonymousUser()).values_list("pk", flat=True)
    assert list(public) == [item("demo-programme-overview").pk]


def test_each_login_sees_what_the_docs_say(seeded):
    for spec in USERS:
        for key in spec.sees:
            assert page_policy.can_view(user(spec.email), item(key)), (spec.email, key)
        visible = set(PortalItemPage.objects.live().visible_to(user(spec.email)).values_list("pk"))
        for key in spec.hidden:
            assert not page_policy.can_view(user(spec.email), item(key)), (spec.email, key)
            assert (item(key).pk,) not in visible, (spec.email, key)


def test_second_run_changes_no_counts(seeded):
    models = [
        "wagtailcore.Page",
        "files.PortalImage",
        "files.PortalDocument",
        "kb.ItemAttachment",
        "kb.DownloadEvent",
        "kb.ItemKey",
        "kb.ProductSheetVersion",
        "kb.Product",
        "kb.PortalItemTag",
        "taggit.Tag",
        "accounts.User",
        "auth.Group",
        "permissions.PartnerOrganization",
        "permissions.Membership",
        "permissions.PageGroupObjectPermission",
        "permissions.Tier",
        "permissions.Region",
        "permissions.PartnerType",
    ]

    def counts():
        return {label: apps.get_model(label).objects.count() for label in models}

    before = counts()
    with demo_assets.disabled():  # the images and PDFs generated again, not from the cache
        call_command("seed_demo", "--quiet", stdout=io.StringIO())
    assert counts() == before
    assert demo_items().count() == len(ITEMS)


def test_product_sheets_have_a_version_history(seeded):
    x1 = item("demo-x1-datasheet")
    history = list(x1.versions.all())
    assert [v.version_label for v in history] == ["v3", "v2", "v1"]
    # Each entry is a publish (staff compare them); later publishes (a file's new version)
    # keep the sheet's version.
    newest = Revision.objects.get(pk=history[0].revision_id)
    assert newest.content["version_label"] == "v3" and newest.object_id == str(x1.pk)
    assert all(v.revision_id for v in history)
    assert history[0].published_at > history[1].published_at > history[2].published_at
    # Stored as the page editor stores it (each block with its data-block-key: issue #14).
    assert re.search(r"<li[^>]*>Corrected the PoE\+ budget to 120 W\.</li>", history[1].note)
    assert x1.changelog == ""
    german = item("demo-de-x1-datasheet")
    german_history = list(german.versions.all())
    assert [v.version_label for v in german_history] == ["v3", "v2", "v1"]
    assert "Neue 5G-Moduloption" in german_history[0].note  # its own, translated
    assert german_history[1].note == history[1].note  # before it: the source's history
    # The history on the sheet, for a partner: v3's note first, its heading not swallowing it.
    from django.test import Client

    client = Client()
    client.force_login(user("anna@acme.example"))
    html = client.get(x1.url).content.decode()
    assert html.index("New 5G module option") < html.index("First release.")
    assert re.search(r"<h2[^>]*>Where it fits</h2>\s*<ul", html)  # the heading alone


def test_every_demo_item_has_its_tags(seeded):
    assert set(ITEM_TAGS) == {spec.key for spec in ITEMS}
    for key, tags in ITEM_TAGS.items():
        assert all(tag_normalise(t) == t for t in tags), key
        assert sorted_tag_names(item(key)) == sorted(tags), key


def test_german_and_czech_items_are_translations_of_english_sources(seeded):
    from wagtail_localize.models import Translation

    default = Locale.get_default()
    for spec in ITEMS:
        if spec.translation_of is None:
            continue
        page, source = item(spec.key), item(spec.translation_of)
        assert source.locale == default, spec.key
        assert page.locale.language_code == spec.locale, spec.key
        assert page.translation_key == source.translation_key, spec.key
        # Under the translation of its source's parent (a translated section here).
        assert page.get_parent().translation_key == source.get_parent().translation_key
        assert page.get_parent().locale == page.locale
        assert Translation.objects.filter(
            source__object_id=source.translation_key, target_locale=page.locale
        ).exists(), spec.key
    # The translated texts stay as they were.
    assert item("demo-de-x5-messe-kit").title == "X5 Switch: Messe-Kit für DACH-Partner"
    assert "Rückwand" in item("demo-de-x5-messe-kit").body


def test_narrowed_translation_in_review_and_localized_files(seeded):
    # Narrowed: the Czech W3 brochure is for Czechia only (its source for all of EMEA).
    czech = item("demo-cs-w3-brozura")
    assert [r.key for r in czech.audience_regions.all()] == ["cz"]
    assert [r.key for r in item("demo-w3-brochure").audience_regions.all()] == ["emea"]
    petr, claire = user("petr@brightline.example"), user("claire@lumiere.example")
    assert page_policy.can_view(petr, czech)
    assert not page_policy.can_view(claire, czech)
    assert page_policy.can_view(claire, item("demo-w3-brochure"))

    # In review: never published, submitted by Jiří to the Czech tree's workflow.
    review = item("demo-cs-f9-datasheet")
    assert not review.live and review.first_published_at is None
    state = review.current_workflow_state
    assert state is not None and state.requested_by.email == "jiri@vendor.example"

    assert state.workflow.name == "Translation review"

    # Localized files: Czech PDFs linked to their English masters; the install guide's was made
    # for the master's previous file, so it is flagged out of date.
    from kb.selectors import item_files

    jana = user("jana@brightline.example")
    for key, stale in (
        ("demo-cs-x1-datasheet", False),
        ("demo-cs-x1-prirucka", True),
        ("demo-de-x1-datasheet", True),  # Anna's: made for v2, the master is v3
        ("demo-de-x5-datasheet", False),
    ):
        page = item(key)
        localized = page.attachments.get(master__isnull=False)
        source_key = next(i.translation_of for i in ITEMS if i.key == key)
        assert localized.master.page_id == item(source_key).pk
        code = page.locale.language_code
        assert localized.title.endswith(f"({code.upper()})")
        files = [f for f in item_files(user=jana, item=page)["files"] if f.language == code]
        assert [f.out_of_date for f in files] == [stale], key


def test_marketers_have_their_locales(seeded):
    from localization.selectors import marketer_locales

    for email, codes in (("jiri@vendor.example", ["cs"]), ("greta@vendor.example", ["de"])):
        assert [loc.language_code for loc in marketer_locales(user=user(email))] == codes
    assert user("approver@vendor.example").groups.filter(name="Moderators").exists()


def test_jiris_task_list_and_coverage_history(seeded):
    from localization.models import CoverageSnapshot, TranslationTask

    czech = Locale.objects.get(language_code="cs")
    tasks = TranslationTask.objects.filter(locale=czech)
    states = {t.source_id: t.state for t in tasks}
    assert states[item("demo-x1-install-guide").pk] == "out_of_date"  # its master PDF changed
    assert states[item("demo-f9-datasheet").pk] == "in_review"
    assert states[item("demo-x1-datasheet").pk] == "done"
    assert tasks.filter(state="missing").count() >= 4  # new items waiting for Czech
    history = CoverageSnapshot.objects.filter(locale=czech).order_by("day")
    assert history.count() >= 5
    assert history.first().done <= history.last().done


def test_jiris_journey_on_the_demo(seeded, django_capture_on_commit_callbacks):
    """docs/demo.md, Jiří: his dashboard shows the out-of-date Czech install guide; he uploads
    the Czech PDF, submits it; the moderator (no other Czech marketer) reviews and approves it and
    it is live; English and German pages are not his."""
    from django.test import Client
    from wagtail_localize.models import Translation

    from files.tests.factories import make_pdf_bytes
    from localization.models import TranslationTask
    from localization.selectors import AssetRef

    run = lambda: django_capture_on_commit_callbacks(execute=True)  # noqa: E731
    jiri = Client()
    assert jiri.login(email="jiri@vendor.example", password="demo-jiri-2026")
    for key in ("demo-x1-datasheet", "demo-de-x5-messe-kit"):
        assert jiri.get(f"/admin/pages/{item(key).pk}/edit/").status_code == 302, key

    guide, source = item("demo-cs-x1-prirucka"), item("demo-x1-install-guide")
    dashboard = jiri.get("/admin/translations/cs/").context["dashboard"]
    (row,) = [r for r in dashboard.rows if r.task.source_id == source.pk]
    assert row.task.state == "out_of_date"
    # The guide's attached PDF (cover and master rows, when the item has them, come first).
    (file_row,) = [f for f in row.files if not isinstance(f.master, AssetRef)]
    with run():
        response = jiri.post(
            file_row.upload_url,
            {"file": SimpleUploadedFile("x1-cs-v2.pdf", make_pdf_bytes("Instalace v2"))},
        )
        assert response.status_code == 302
    translation = Translation.objects.get(
        source__object_id=source.translation_key, target_locale=guide.locale
    )
    with run():
        response = jiri.post(f"/admin/localization/translations/{translation.pk}/submit/")
        assert response.status_code == 302
    assert TranslationTask.objects.get(pk=row.task.pk).state == "in_review"

    approver = user("approver@vendor.example")
    with run():
        state = item("demo-cs-x1-prirucka").current_workflow_state
        assert state.requested_by == user("jiri@vendor.example")
        state.current_task_state.approve(user=approver)  # Regional review (no other marketer)
        state.refresh_from_db()
        state.current_task_state.approve(user=approver)  # Approval
    assert TranslationTask.objects.get(pk=row.task.pk).state == "done"
    assert item("demo-cs-x1-prirucka").live


def test_rich_text_is_stored_as_the_page_editor_stores_it(seeded):
    """Issue #14: the demo's rich text is what the editor would store (data-block-key on every
    block), so opening and saving an untouched page changes none of it."""
    from kb.models import LibraryIndexPage
    from kb.richtext import rich_text_as_editor_stores

    checked = 0
    for page in demo_items().specific():
        for name in ("body", "change_note"):
            value = getattr(page, name, "")
            if value:
                features = page._meta.get_field(name).features
                assert rich_text_as_editor_stores(value, features) == value, (page.title, name)
                assert "data-block-key" in value
                checked += 1
    for section in LibraryIndexPage.objects.exclude(intro=""):
        assert rich_text_as_editor_stores(section.intro) == section.intro, section.title
        checked += 1
    assert checked > 40

"""Share links over HTTP: creating (defaults, limits, the hashed password), the customer page and
its download (counts, stamp), and the link closing the moment anything it rests on goes:
expiry, revocation, the organisation suspended, the creator deactivated or moved, the item
narrowed, unpublished, expired or no longer co-brandable. Plus who may manage a link, and what
the customer page does not show."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from cobranding.models import CobrandRender
from cobranding.tests.helpers import BLUE, CONTACT, image_bytes, make_image, make_pdf_asset
from kb.models import MarketingAssetPage
from kb.services import Audience
from kb.tests.factories import make_item
from permissions.models import Membership, PartnerOrganization
from permissions.policies.sharing import share_link_policy
from permissions.services import organization_set_logo
from permissions.tests.factories import MembershipFactory, OrganizationFactory, RegionFactory
from sharing import renders
from sharing.models import ShareLink
from sharing.services import share_link_create, token_hash

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("local_storage")]


def make_asset(key: str, *, title: str | None = None, co_brandable: bool = True, audience=None):
    return make_item(
        key=key,
        kind="marketing_asset",
        title=title,
        audience=audience,
        summary=f"Summary of {key}.",
        extra={
            "master_image": make_image(key),
            "co_brandable": co_brandable,
            "asset_kind": "banner",
        },
    )


def make_org(**kwargs) -> PartnerOrganization:
    org = OrganizationFactory.create(
        region=RegionFactory(),
        primary_color="#102030",
        secondary_color="#ffffff",
        **CONTACT,
        **kwargs,
    )
    organization_set_logo(organization=org, name="logo.png", content=image_bytes(BLUE, (80, 40)))
    org.refresh_from_db()
    return org


def member(org, role=Membership.Role.MEMBER):
    return MembershipFactory.create(organization=org, role=role).user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def create_link(client: Client, item, **data) -> tuple[ShareLink, str]:
    """Create a link through the form; return it and its full URL as shown once."""
    data = {"label": "", "days": 14, "password": "", **data}
    response = client.post(reverse("sharing:create", args=[item.pk]), data)
    assert response.status_code == 303, response.content.decode()[:2000]
    page = client.get(response["Location"])
    html = page.content.decode()
    found = re.search(r'id="new-link-url"[^>]*value="([^"]+)"', html)
    assert found is not None, html
    url = found.group(1)
    return ShareLink.objects.get(token_hash=token_hash(url.rstrip("/").rsplit("/", 1)[1])), url


def path_of(url: str) -> str:
    return url.replace("http://testserver", "")


@pytest.fixture
def world(portal):
    cache.clear()
    org = make_org(name="Acme Systems")
    creator = member(org)
    asset = make_asset("brochure", title="Router brochure")
    return org, creator, asset


# --- creating --------------------------------------------------------------------------------


def test_the_item_page_offers_the_form_and_a_link_is_created_with_defaults(world):
    org, creator, asset = world
    client = client_for(creator)
    html = client.get(asset.url).content.decode()
    assert "Share with a customer" in html
    assert f'action="{reverse("sharing:create", args=[asset.pk])}"' in html
    assert 'value="14"' in html  # the default number of days
    # Each help text is where the field's aria-describedby points.
    for described in re.findall(r'aria-describedby="([^"]+)"', html):
        assert f'id="{described}"' in html

    before = timezone.now()
    link, url = create_link(client, asset, label="Contoso")
    assert link.organization == org and link.item_id == asset.pk and link.created_by == creator
    assert link.created_by_email == creator.email and link.label == "Contoso"
    assert timedelta(days=14) <= link.expires_at - before < timedelta(days=14, minutes=1)
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert len(token) == 43 and url.startswith("http://testserver/s/")
    # Only the hash is stored; the list shows the link only masked from now on.
    assert token not in str(ShareLink.objects.filter(pk=link.pk).values().get())
    html = client.get(reverse("sharing:links")).content.decode()
    assert token not in html and f"{link.token_prefix}…" in html
    assert "Router brochure" in html and "Contoso" in html and "open" in html


def test_the_list_shows_the_expiry_in_the_users_time_zone(world):
    _org, creator, asset = world
    creator.time_zone = "Asia/Tokyo"
    creator.save()
    client = client_for(creator)
    link, _url = create_link(client, asset)
    html = client.get(reverse("sharing:links")).content.decode()
    local = timezone.localtime(link.expires_at, ZoneInfo("Asia/Tokyo"))
    assert f'<time datetime="{local.isoformat()}">' in html


def test_days_are_limited_and_errors_are_shown(world, settings):
    _org, creator, asset = world
    settings.PORTAL_SHARE_LINK_MAX_DAYS = 30
    client = client_for(creator)
    url = reverse("sharing:create", args=[asset.pk])
    for days in (0, 31, "many"):
        response = client.post(url, {"days": days})
        assert response.status_code == 400
        assert 'class="error"' in response.content.decode()
    assert not ShareLink.objects.exists()
    assert "at most 30 days" in client.post(url, {"days": 31}).content.decode()
    link, _url = create_link(client, asset, days=30)
    assert link.expires_at - timezone.now() > timedelta(days=29, hours=23)
    with pytest.raises(ValueError):
        share_link_create(user=creator, item=asset, days=31)


def test_the_password_is_stored_hashed_and_asked_for(world):
    _org, creator, asset = world
    link, url = create_link(client_for(creator), asset, password="open sesame 42")
    link.refresh_from_db()
    assert link.password and "open sesame 42" not in link.password
    assert link.password.startswith(("pbkdf2", "argon2", "bcrypt", "scrypt", "md5"))

    customer = Client()
    page = customer.get(path_of(url))
    html = page.content.decode()
    assert page.status_code == 200 and "Password required" in html
    assert "Router brochure" not in html  # nothing of the item before the password
    assert customer.get(path_of(url) + "download").status_code == 303
    wrong = customer.post(path_of(url), {"password": "nope"})
    assert wrong.status_code == 400 and "not right" in wrong.content.decode()
    right = customer.post(path_of(url), {"password": "open sesame 42"})
    assert right.status_code == 303
    html = customer.get(path_of(url)).content.decode()
    assert "Router brochure" in html and "Download" in html
    assert customer.get(path_of(url) + "download").status_code == 200
    # Another browser still has to give it.
    assert "Password required" in Client().get(path_of(url)).content.decode()


def test_wrong_passwords_are_limited_per_address(world, settings):
    _org, creator, asset = world
    settings.PORTAL_SHARE_PASSWORD_LIMIT = 3
    _link, url = create_link(client_for(creator), asset, password="right one")
    customer = Client()
    for _ in range(3):
        assert customer.post(path_of(url), {"password": "wrong"}).status_code == 400
    locked = customer.post(path_of(url), {"password": "right one"})
    assert locked.status_code == 429 and "Too many wrong passwords" in locked.content.decode()
    # Another address is not locked out by this one.
    other = Client(REMOTE_ADDR="10.1.2.3")
    assert other.post(path_of(url), {"password": "right one"}).status_code == 303


# --- the customer page and the download --------------------------------------------------------


def test_views_and_downloads_are_counted_and_the_page_shows_no_portal(world):
    org, creator, asset = world
    other = make_asset("secret-other", title="Other secret item")
    _link, url = create_link(client_for(creator), asset, label="Contoso")
    link = ShareLink.objects.get()
    customer = Client()
    response = customer.get(path_of(url))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Router brochure" in html
    # The summary is written for partners (it may name tiers and regions): not for customers.
    assert "Summary of brochure." not in html
    assert CobrandRender.objects.get(item=link.item).filename in html
    assert "Prepared for you by <bdi>Acme Systems</bdi>" in html
    assert "Altivo Networks" in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    # No portal around it: no navigation, search, language switcher, other items, login.
    for leak in (
        "<nav",
        'role="search"',
        "/search/",
        "language-switcher",
        "/portal/",
        'href="/"',
        "Log in",
        "Other secret item",
        other.url,
        creator.email,
        "Contoso",
    ):
        assert leak not in html, leak
    hrefs = re.findall(r'href="([^"]+)"', html)
    assert all(h.startswith(("/static/", path_of(url))) for h in hrefs), hrefs

    customer.get(path_of(url))
    customer.get(path_of(url) + "?refresh=1")  # the page's own reload while preparing
    download = customer.get(path_of(url) + "download")
    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    assert download["Content-Disposition"] == (f'attachment; filename="{asset.slug}-{org.key}.png"')
    assert download.content.startswith(b"\x89PNG")
    link.refresh_from_db()
    assert (link.view_count, link.download_count) == (2, 1)
    assert link.last_used_at is not None
    # The partner sees the counts.
    html = client_for(creator).get(reverse("sharing:links")).content.decode()
    assert "<td>2</td>" in html and "<td>1</td>" in html


def test_the_download_is_stamped_with_the_link_and_its_creator(world, tmp_path):
    from cobranding.engine import read_stamp
    from cobranding.models import CobrandIssue

    org, creator, asset = world
    link, url = create_link(client_for(creator), asset)
    first = Client().get(path_of(url) + "download").content
    second = Client().get(path_of(url) + "download").content
    tokens = [read_stamp(first), read_stamp(second)]
    assert all(tokens) and tokens[0] != tokens[1]  # one identifier per download
    for token in tokens:
        issue = CobrandIssue.objects.get(token=token)
        assert issue.share_link_id == link.pk
        assert issue.organization_key == org.key and issue.user_email == creator.email
    # identify_file names the creator's organisation, the creator and the link.
    path = tmp_path / "from-the-customer.png"
    path.write_bytes(first)
    out = io.StringIO()
    call_command("identify_file", str(path), "--json", stdout=out)
    found = json.loads(out.getvalue())
    assert (found["organization"], found["user"], found["item"]) == (
        org.key,
        creator.email,
        "brochure",  # the item's bundle key
    )
    assert found["share_link"] == link.pk


def test_a_pdf_brochure_is_shared_stamped_and_closes_with_its_version(world):
    from cobranding.engine import read_stamp
    from cobranding.models import CobrandIssue
    from files.models import PortalDocument

    _org, creator, _asset = world
    item, document = make_pdf_asset("pdf-brochure")
    link, url = create_link(client_for(creator), item)
    download = Client().get(path_of(url) + "download")
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert download.content.startswith(b"%PDF")
    issue = CobrandIssue.objects.get(token=read_stamp(download.content))
    assert issue.share_link_id == link.pk and issue.master_kind == "document"
    # The master's version expires: withdrawn for the link too.
    PortalDocument.objects.filter(pk=document.pk).update(
        expire_at=timezone.now() - timedelta(seconds=1)
    )
    assert_gone(url, _gone_bytes())
    html = client_for(creator).get(reverse("sharing:links")).content.decode()
    assert "the item&#x27;s file is withdrawn" in html


def test_a_failed_render_says_so_and_customers_do_not_start_renders(world, monkeypatch):
    from cobranding.models import CobrandRender

    _org, creator, asset = world
    _link, url = create_link(client_for(creator), asset)
    customer = Client()
    assert "Download</a>" in customer.get(path_of(url)).content.decode()
    CobrandRender.objects.update(status=CobrandRender.Status.FAILED, error="The logo is broken")

    def no_request(*args, **kwargs):
        raise AssertionError("a customer's request started a render")

    monkeypatch.setattr(renders, "cobrand_request", no_request)
    html = customer.get(path_of(url)).content.decode()
    assert "cannot be prepared right now" in html and "The logo is broken" not in html
    assert customer.get(path_of(url) + "download").status_code == 303


def test_preparing_shows_a_reloading_page_and_asks_on_the_creators_behalf(world, monkeypatch):
    org, creator, asset = world
    _link, url = create_link(client_for(creator), asset)
    asked = []

    class Pending:
        is_ready = False
        status = "pending"

    def pending(item, organization, user):
        asked.append((item.pk, organization.pk, user.pk))
        return Pending()

    monkeypatch.setattr(renders, "render_for_share", pending)
    customer = Client()
    html = customer.get(path_of(url)).content.decode()
    assert "being prepared" in html
    assert f'http-equiv="refresh" content="5;url={path_of(url)}?refresh=1"' in html
    assert "Download</a>" not in html
    assert customer.get(path_of(url) + "download").status_code == 303
    assert asked[0] == (asset.pk, org.pk, creator.pk)
    assert ShareLink.objects.get().download_count == 0


# --- closing -----------------------------------------------------------------------------------


def _gone_bytes() -> bytes:
    response = Client().get("/s/" + "x" * 43 + "/")
    assert response.status_code == 404
    return response.content


def assert_gone(url: str, reference: bytes) -> None:
    for path in (path_of(url), path_of(url) + "download"):
        response = Client().get(path)
        assert response.status_code == 404, path
        assert response.content == reference  # the same bytes, whatever the reason
        assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_unknown_and_malformed_tokens_get_the_same_404(world):
    reference = _gone_bytes()
    assert b"This link is no longer available" in reference
    assert b"<nav" not in reference and b"/portal/" not in reference
    for path in ("/s/short/", "/s/" + "A" * 43 + "/download", "/s/%00/"):
        response = Client().get(path)
        assert response.status_code in (404, 400)
        if response.status_code == 404:
            assert response.content == reference


def test_expiry_and_revocation_close_the_link(world):
    org, creator, asset = world
    client = client_for(creator)
    reference = _gone_bytes()
    expiring, expiring_url = create_link(client, asset)
    revoked, revoked_url = create_link(client, asset)
    assert Client().get(path_of(expiring_url)).status_code == 200
    ShareLink.objects.filter(pk=expiring.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert_gone(expiring_url, reference)

    revoke = reverse("sharing:revoke", args=[revoked.pk])
    assert client.get(revoke).status_code == 405
    response = client.post(revoke)
    assert response.status_code == 303
    revoked.refresh_from_db()
    assert revoked.revoked_at is not None and revoked.revoked_by == creator
    assert_gone(revoked_url, reference)
    html = client.get(reverse("sharing:links")).content.decode()
    assert "expired" in html and "revoked" in html
    assert client.post(revoke).status_code == 303  # again: nothing changes
    assert ShareLink.objects.get(pk=revoked.pk).revoked_at == revoked.revoked_at


@pytest.mark.parametrize(
    "change",
    [
        "organization_suspended",
        "creator_deactivated",
        "creator_moved",
        "creator_deleted",
        "audience_narrowed",
        "item_unpublished",
        "item_expired",
        "not_cobrandable",
    ],
)
def test_losing_the_entitlement_closes_the_link_at_once(world, change):
    org, creator, asset = world
    reference = _gone_bytes()
    _link, url = create_link(client_for(creator), asset)
    customer = Client()
    assert customer.get(path_of(url)).status_code == 200
    if change == "organization_suspended":
        org.status = PartnerOrganization.Status.SUSPENDED
        org.save()
    elif change == "creator_deactivated":
        creator.is_active = False
        creator.save()
    elif change == "creator_moved":
        Membership.objects.filter(user=creator).update(organization=make_org())
    elif change == "creator_deleted":
        creator.delete()
    elif change == "audience_narrowed":
        asset.audience_regions = [RegionFactory(key="far-away")]
        asset.save_revision().publish()
    elif change == "item_unpublished":
        asset.unpublish()
    elif change == "item_expired":
        # Its own expiry passed, before any scheduler unpublished it.
        asset.expire_at = timezone.now() - timedelta(seconds=1)
        asset.save()
    elif change == "not_cobrandable":
        asset.co_brandable = False
        asset.save_revision().publish()
    assert_gone(url, reference)
    # The same browser, with its session: closed too.
    assert customer.get(path_of(url)).status_code == 404


# --- who may manage ----------------------------------------------------------------------------


def test_only_the_creator_and_the_organisations_admins_manage_a_link(world):
    org, creator, asset = world
    link, url = create_link(client_for(creator), asset, label="Contoso")
    admin = member(org, Membership.Role.ADMIN)
    colleague = member(org)
    outsider_admin = member(make_org(), Membership.Role.ADMIN)
    revoke = reverse("sharing:revoke", args=[link.pk])

    assert "Contoso" in client_for(admin).get(reverse("sharing:links")).content.decode()
    for user in (colleague, outsider_admin):
        client = client_for(user)
        assert "Contoso" not in client.get(reverse("sharing:links")).content.decode()
        assert client.post(revoke).status_code == 404
    assert Client().post(revoke).status_code == 302  # anonymous: to the login page
    assert Client().get(reverse("sharing:links")).status_code == 302
    assert ShareLink.objects.get().revoked_at is None
    assert client_for(admin).post(revoke).status_code == 303
    assert ShareLink.objects.get().revoked_at is not None


def test_who_may_create(world, django_user_model):
    org, creator, asset = world
    create = reverse("sharing:create", args=[asset.pk])
    not_cobrandable = make_asset("plain", co_brandable=False)
    hidden = make_asset("hidden", audience=Audience(regions=[RegionFactory(key="elsewhere")]))
    client = client_for(creator)
    # The form as a page of its own: labelled fields, the default days.
    page = client.get(create)
    html = page.content.decode()
    assert page.status_code == 200 and "<h1>Share with a customer</h1>" in html
    for label in ("Customer", "Open for (days)", "Password (optional)"):
        assert f">{label}</label>" in html
    assert client.get(reverse("sharing:create", args=[not_cobrandable.pk])).status_code == 404
    assert (
        client.post(reverse("sharing:create", args=[not_cobrandable.pk]), {"days": 3}).status_code
        == 404
    )
    assert "Share with a customer" not in client.get(not_cobrandable.url).content.decode()
    assert client.post(reverse("sharing:create", args=[hidden.pk]), {"days": 3}).status_code == 404
    staff = django_user_model.objects.create_superuser(email="ed@x.example", password="x")
    assert client_for(staff).post(create, {"days": 3}).status_code == 404
    assert client_for(staff).get(reverse("sharing:links")).status_code == 404
    suspended = member(make_org(status=PartnerOrganization.Status.SUSPENDED))
    assert client_for(suspended).post(create, {"days": 3}).status_code == 404
    assert not ShareLink.objects.exists()
    # The navigation names the page for partners only.
    assert reverse("sharing:links") in client.get(asset.url).content.decode()
    assert reverse("sharing:links") not in client_for(staff).get("/").content.decode()


# --- the rule ----------------------------------------------------------------------------------

CONDITIONS = (
    "revoked",
    "expired",
    "organization_suspended",
    "creator_inactive",
    "creator_left",
    "not_cobrandable",
    "not_entitled",
)


class _Rollback(Exception):
    pass


# Each example builds its world in a savepoint and rolls it back; the fixture's site structure
# is only read.
@hypothesis_settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(broken=st.sets(st.sampled_from(CONDITIONS)))
def test_a_link_is_open_exactly_when_nothing_it_rests_on_is_gone(portal, broken):
    """Any combination of the conditions: open iff none holds, and the reason given is the
    first in the policy's order."""
    cache.clear()
    try:
        with transaction.atomic():
            org = make_org()
            creator = member(org)
            asset = make_asset("rule-asset")
            link, _token = share_link_create(user=creator, item=asset)
            if "revoked" in broken:
                ShareLink.objects.filter(pk=link.pk).update(revoked_at=timezone.now())
            if "expired" in broken:
                ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now())
            if "organization_suspended" in broken:
                PartnerOrganization.objects.filter(pk=org.pk).update(status="suspended")
            if "creator_inactive" in broken:
                type(creator).objects.filter(pk=creator.pk).update(is_active=False)
            if "creator_left" in broken:
                Membership.objects.filter(user=creator).update(organization=make_org())
            if "not_cobrandable" in broken:
                MarketingAssetPage.objects.filter(pk=asset.pk).update(co_brandable=False)
            if "not_entitled" in broken:
                MarketingAssetPage.objects.filter(pk=asset.pk).update(live=False)
            fresh = ShareLink.objects.select_related("organization", "item", "created_by").get()
            reason = share_link_policy.closed_reason(fresh)
            expected = next((c for c in CONDITIONS if c in broken), None)
            assert reason == expected
            assert share_link_policy.is_open(fresh) == (not broken)
            assert share_link_policy.closed_reasons([fresh]) == [expected]
            raise _Rollback
    except _Rollback:
        pass


def test_the_list_costs_the_same_queries_for_one_link_or_ten(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _org, creator, asset = world
    client = client_for(creator)
    share_link_create(user=creator, item=asset)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("sharing:links")).status_code == 200
        last[:] = captured.captured_queries
        return len(captured)

    last: list = []
    client.get(reverse("sharing:links"))  # warm per-process caches (the header navigation)
    one = queries()
    for _ in range(9):
        share_link_create(user=creator, item=asset)
    assert queries() == one, "\n".join(q["sql"][:150] for q in last)


def test_head_requests_count_nothing_and_issue_no_file(world):
    from cobranding.models import CobrandIssue

    _org, creator, asset = world
    link, url = create_link(client_for(creator), asset)
    customer = Client()
    assert customer.head(path_of(url)).status_code == 200
    assert customer.head(path_of(url) + "download").status_code == 405
    link.refresh_from_db()
    assert (link.view_count, link.download_count) == (0, 0)
    assert not CobrandIssue.objects.exists()

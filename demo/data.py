"""The demo world of *Altivo Networks*' partner portal, seeded by ``manage.py seed_demo``.

Everything is written through the services (``permissions.services``, ``kb.services``) so the demo
behaves exactly like content created in the admin or imported from a bundle. The data is chosen so
that every journey of docs/JOURNEYS.md can be shown and every audience rule is exercised at least
once: minimum tier, regions (with DACH under EMEA), partner types, a grant, an exception,
inheritance (child items and a tier-restricted section), a public item, and content in en/de/cs.

``demo_seed()`` is idempotent: organisations, users and items are upserted by key, sections are
looked up by slug, images and documents by title + content hash (the generators in
``demo.assets`` are deterministic), so a second run changes nothing that can be counted.
docs/demo.md documents the result; demo/tests/test_seed_demo.py checks it, including what each demo
login may and may not see.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from io import BytesIO
from typing import TextIO

from django.contrib.auth import get_user_model
from django.core.files.images import ImageFile
from django.db import transaction
from django.utils import timezone
from django.utils.html import escape
from wagtail.models import Page

from demo.assets import make_logo, make_pdf, make_product_image
from files.models import PortalDocument, PortalImage
from kb.models import DownloadEvent, ItemKey, LibraryIndexPage, PortalItemPage
from kb.services import (
    Audience,
    FileSpec,
    StoredFiles,
    document_create,
    item_upsert,
    library_for_locale,
    product_ensure,
    site_structure_ensure,
)
from permissions.models import (
    AccessChange,
    Membership,
    PartnerOrganization,
    PartnerType,
    Region,
    Tier,
)
from permissions.services import (
    access_change_source,
    organization_set_logo,
    organization_upsert,
    user_upsert,
)

# ============================================================================================
# Taxonomy
# ============================================================================================

#: (key, name, rank). Ranks leave gaps so an editor can slot a tier in between later.
TIERS = [
    ("registered", "Registered", 10),
    ("silver", "Silver", 20),
    ("gold", "Gold", 30),
    ("platinum", "Platinum", 40),
]
#: (key, name, parent key). DACH sits under EMEA: EMEA items reach DACH partners, not vice versa.
REGIONS = [
    ("emea", "EMEA", None),
    ("dach", "DACH", "emea"),
    ("apac", "APAC", None),
    ("na", "North America", None),
    ("latam", "Latin America", None),
]
PARTNER_TYPES = [
    ("reseller", "Reseller"),
    ("distributor", "Distributor"),
    ("referral", "Referral partner"),
    ("technology", "Technology partner"),
]
#: Product lines and their brand colour (used for cover images and PDFs).
PRODUCTS = {
    "X1 Router": "#1f6feb",
    "X5 Switch": "#0f9d58",
    "F9 Firewall": "#c5221f",
    "W3 Access Point": "#7b1fa2",
    "Cloud Manager": "#00897b",
    "X7 Core Router": "#37474f",
}
PROGRAMME_COLOR = "#e37400"

# ============================================================================================
# Organisations and logins
# ============================================================================================


@dataclass(frozen=True)
class OrgSpec:
    key: str
    name: str
    tier: str
    region: str
    partner_type: str
    country: str
    primary_color: str
    contact_block: str
    status: str = PartnerOrganization.Status.ACTIVE
    note: str = ""


ORGANIZATIONS = [
    OrgSpec(
        "acme",
        "Acme GmbH",
        "gold",
        "dach",
        "reseller",
        "DE",
        "#c8102e",
        "Acme GmbH · Partnervertrieb\nFriedrichstraße 123, 10117 Berlin\n"
        "+49 30 1234 5678 · vertrieb@acme.example\nwww.acme.example",
        note="Anna's organisation (JOURNEYS).",
    ),
    OrgSpec(
        "alpen-it",
        "Alpen IT Service GmbH",
        "gold",
        "dach",
        "reseller",
        "AT",
        "#2e7d32",
        "Alpen IT Service GmbH\nMaria-Theresien-Straße 21, 6020 Innsbruck\n"
        "+43 512 908 070 · office@alpen-it.example",
        note="Same tier, region and type as Acme, but excluded from the F9 battlecard.",
    ),
    OrgSpec(
        "brightline",
        "Brightline Systems s.r.o.",
        "silver",
        "emea",
        "distributor",
        "CZ",
        "#f57c00",
        "Brightline Systems s.r.o.\nNa Příkopě 15, 110 00 Praha 1\n"
        "+420 222 333 444 · partneri@brightline.example",
        note="Silver distributor granted the Gold-only X1 brochure (Eva's journey).",
    ),
    OrgSpec(
        "lumiere",
        "Lumière Réseaux SARL",
        "silver",
        "emea",
        "reseller",
        "FR",
        "#283593",
        "Lumière Réseaux SARL\n18 rue de la République, 69002 Lyon\n"
        "+33 4 78 00 12 34 · contact@lumiere-reseaux.example",
        note="Silver in EMEA without a grant: the control case for Brightline.",
    ),
    OrgSpec(
        "cloudbridge",
        "Cloudbridge Software Ltd",
        "gold",
        "emea",
        "technology",
        "GB",
        "#00838f",
        "Cloudbridge Software Ltd\n1 Canal Street, Manchester M1 3HE\n"
        "+44 161 496 0000 · alliances@cloudbridge.example",
    ),
    OrgSpec(
        "northstar",
        "Northstar Integrated Solutions Inc.",
        "platinum",
        "na",
        "reseller",
        "US",
        "#0d47a1",
        "Northstar Integrated Solutions Inc.\n500 Market Street, Suite 1200, Denver, CO 80202\n"
        "+1 303 555 0142 · partners@northstar.example",
    ),
    OrgSpec(
        "pacific-rim",
        "Pacific Rim Networks Pte. Ltd.",
        "platinum",
        "apac",
        "distributor",
        "SG",
        "#6a1b9a",
        "Pacific Rim Networks Pte. Ltd.\n8 Marina View, #20-01, Singapore 018960\n"
        "+65 6555 0188 · channel@pacific-rim.example",
    ),
    OrgSpec(
        "lumen-referral",
        "Lumen Referral Partners LLC",
        "registered",
        "na",
        "referral",
        "US",
        "#455a64",
        "Lumen Referral Partners LLC\n2100 Ross Avenue, Dallas, TX 75201\n"
        "+1 214 555 0199 · hello@lumen-referral.example",
    ),
    OrgSpec(
        "conexa",
        "Conexa Distribución S.A. de C.V.",
        "silver",
        "latam",
        "distributor",
        "MX",
        "#00695c",
        "Conexa Distribución S.A. de C.V.\nAv. Paseo de la Reforma 250, 06600 Ciudad de México\n"
        "+52 55 5555 0123 · canales@conexa.example",
        note="Tomás's organisation (JOURNEYS).",
    ),
    OrgSpec(
        "sol-digital",
        "Sol Digital Ltda.",
        "registered",
        "latam",
        "reseller",
        "BR",
        "#f9a825",
        "Sol Digital Ltda.\nAv. Paulista 1000, São Paulo - SP\n"
        "+55 11 5555 0177 · vendas@soldigital.example",
    ),
    OrgSpec(
        "kestrel",
        "Kestrel IT Pty Ltd",
        "silver",
        "apac",
        "reseller",
        "AU",
        "#5d4037",
        "Kestrel IT Pty Ltd\n200 George Street, Sydney NSW 2000\n"
        "+61 2 5550 1234 · sales@kestrel.example",
        status=PartnerOrganization.Status.SUSPENDED,
        note="Suspended by the vendor: its members see nothing.",
    ),
]


@dataclass(frozen=True)
class UserSpec:
    email: str
    password: str
    first_name: str
    last_name: str
    language: str
    time_zone: str
    organization: str | None = None  # org key, for partner users
    role: str = Membership.Role.MEMBER
    staff_role: str | None = None  # "editor" / "moderator" / "marketer"
    superuser: bool = False
    #: Demo item keys this login must see / must not see (checked by demo/tests/test_seed_demo.py).
    sees: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


ADMIN = Membership.Role.ADMIN
MEMBER = Membership.Role.MEMBER

USERS = [
    UserSpec(
        "anna@acme.example",
        "demo-anna-2026",
        "Anna",
        "Schmidt",
        "de",
        "Europe/Berlin",
        "acme",
        MEMBER,
        sees=(
            "demo-x1-datasheet",
            "demo-x1-brochure",
            "demo-f9-battlecard",
            "demo-x1-dach-launch-kit",
            "demo-emea-summit-kit",
            "demo-de-x5-messe-kit",
            "demo-f9-policy-course",
        ),
        hidden=(
            "demo-x7-preview-datasheet",
            "demo-roadmap-2027",
            "demo-cm-api-course",
            "demo-latam-distributor-kit",
            "demo-apac-cm-social",
            "demo-referral-one-pager",
            "demo-x5-promo-2025",
        ),
    ),
    UserSpec(
        "markus@acme.example",
        "demo-markus-2026",
        "Markus",
        "Weber",
        "de",
        "Europe/Berlin",
        "acme",
        ADMIN,
        sees=("demo-x1-brochure", "demo-x1-dach-launch-kit"),
        hidden=("demo-platinum-mdf-banner",),
    ),
    UserSpec(
        "lukas@alpen-it.example",
        "demo-lukas-2026",
        "Lukas",
        "Huber",
        "de",
        "Europe/Vienna",
        "alpen-it",
        MEMBER,
        sees=("demo-x1-brochure", "demo-x1-dach-launch-kit", "demo-f9-policy-course"),
        hidden=("demo-f9-battlecard",),
    ),
    UserSpec(
        "petr@brightline.example",
        "demo-petr-2026",
        "Petr",
        "Novák",
        "cs",
        "Europe/Prague",
        "brightline",
        ADMIN,
        sees=("demo-x1-brochure", "demo-emea-summit-kit", "demo-cs-w3-brozura"),
        hidden=("demo-x1-dach-launch-kit", "demo-f9-policy-course", "demo-f9-battlecard"),
    ),
    UserSpec(
        "jana@brightline.example",
        "demo-jana-2026",
        "Jana",
        "Dvořáková",
        "cs",
        "Europe/Prague",
        "brightline",
        MEMBER,
        sees=("demo-x1-brochure", "demo-cs-x1-prirucka"),
        hidden=("demo-de-x5-messe-kit",),
    ),
    UserSpec(
        "claire@lumiere.example",
        "demo-claire-2026",
        "Claire",
        "Martin",
        "fr",
        "Europe/Paris",
        "lumiere",
        ADMIN,
        sees=("demo-emea-summit-kit", "demo-sales-certification", "demo-x5-deploy-course"),
        hidden=("demo-x1-brochure", "demo-x1-dach-launch-kit", "demo-f9-policy-course"),
    ),
    UserSpec(
        "sophie@cloudbridge.example",
        "demo-sophie-2026",
        "Sophie",
        "Clarke",
        "en",
        "Europe/London",
        "cloudbridge",
        MEMBER,
        sees=("demo-cm-api-course", "demo-emea-summit-kit", "demo-f9-policy-course"),
        hidden=("demo-x1-brochure", "demo-f9-battlecard", "demo-sales-certification"),
    ),
    UserSpec(
        "james@northstar.example",
        "demo-james-2026",
        "James",
        "Carter",
        "en",
        "America/New_York",
        "northstar",
        ADMIN,
        sees=(
            "demo-x7-preview-datasheet",
            "demo-roadmap-2027",
            "demo-platinum-mdf-banner",
            "demo-na-coop-playbook",
            "demo-f9-battlecard",
        ),
        hidden=("demo-x1-brochure", "demo-emea-summit-kit", "demo-latam-distributor-kit"),
    ),
    UserSpec(
        "mei@pacific-rim.example",
        "demo-mei-2026",
        "Mei Lin",
        "Tan",
        "en",
        "Asia/Singapore",
        "pacific-rim",
        MEMBER,
        sees=("demo-x7-preview-datasheet", "demo-roadmap-2027", "demo-apac-cm-social"),
        hidden=("demo-x1-brochure", "demo-f9-battlecard", "demo-na-coop-playbook"),
    ),
    UserSpec(
        "olivia@lumen-referral.example",
        "demo-olivia-2026",
        "Olivia",
        "Brooks",
        "en",
        "America/Chicago",
        "lumen-referral",
        ADMIN,
        sees=("demo-referral-one-pager", "demo-sales-certification", "demo-x1-datasheet"),
        hidden=("demo-f9-datasheet", "demo-x5-deploy-course", "demo-na-coop-playbook"),
    ),
    UserSpec(
        "tomas@conexa.example",
        "demo-tomas-2026",
        "Tomás",
        "Herrera",
        "en",
        "America/Mexico_City",
        "conexa",
        ADMIN,
        sees=("demo-latam-distributor-kit", "demo-f9-datasheet", "demo-x5-deploy-course"),
        hidden=("demo-x1-brochure", "demo-sales-certification", "demo-emea-summit-kit"),
    ),
    UserSpec(
        "lucia@conexa.example",
        "demo-lucia-2026",
        "Lucía",
        "Ramírez",
        "en",
        "America/Mexico_City",
        "conexa",
        MEMBER,
        sees=("demo-latam-distributor-kit",),
        hidden=("demo-roadmap-2027",),
    ),
    UserSpec(
        "rafael@soldigital.example",
        "demo-rafael-2026",
        "Rafael",
        "Costa",
        "en",
        "America/Sao_Paulo",
        "sol-digital",
        MEMBER,
        sees=("demo-sales-certification", "demo-x1-install-guide"),
        hidden=("demo-latam-distributor-kit", "demo-f9-datasheet", "demo-x5-deploy-course"),
    ),
    UserSpec(
        "ravi@kestrel.example",
        "demo-ravi-2026",
        "Ravi",
        "Patel",
        "en",
        "Australia/Sydney",
        "kestrel",
        MEMBER,
        hidden=("demo-x1-datasheet", "demo-apac-cm-social", "demo-programme-overview"),
    ),
    UserSpec(
        "eva@vendor.example",
        "demo-eva-2026",
        "Eva",
        "Bergmann",
        "en",
        "Europe/Berlin",
        staff_role="editor",
        sees=("demo-roadmap-2027", "demo-f9-battlecard", "demo-x5-promo-2025"),
    ),
    UserSpec(
        "approver@vendor.example",
        "demo-approver-2026",
        "Alex",
        "Approver",
        "en",
        "Europe/Berlin",
        staff_role="moderator",
    ),
    UserSpec(
        "jiri@vendor.example",
        "demo-jiri-2026",
        "Jiří",
        "Horák",
        "cs",
        "Europe/Prague",
        staff_role="marketer",
    ),
    UserSpec(
        "admin@vendor.example",
        "demo-admin-2026",
        "Portal",
        "Administrator",
        "en",
        "UTC",
        staff_role="editor",
        superuser=True,
    ),
]

# ============================================================================================
# Library sections and items
# ============================================================================================


@dataclass(frozen=True)
class Rule:
    """An item's or section's own audience, by taxonomy / organisation keys."""

    min_tier: str | None = None
    regions: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    public: bool = False
    grants: tuple[str, ...] = ()
    exceptions: tuple[str, ...] = ()


ANYONE_SIGNED_IN = Rule()


@dataclass(frozen=True)
class SectionSpec:
    slug: str
    title: str
    intro: str
    rule: Rule = ANYONE_SIGNED_IN


#: Sections of the English library (children of library_for_locale("en")).
SECTIONS = [
    SectionSpec(
        "partner-programme",
        "Partner programme",
        "How the Altivo partner programme works — open to everyone, no login needed.",
        Rule(public=True),
    ),
    SectionSpec(
        "product-sheets",
        "Product sheets",
        "Datasheets and service descriptions for every Altivo product line.",
    ),
    SectionSpec(
        "training",
        "Training",
        "Self-paced courses for sales and technical staff, from first install to advanced design.",
    ),
    SectionSpec(
        "marketing",
        "Marketing",
        "Brochures, banners, presentations and social posts — many of them co-brandable.",
    ),
    SectionSpec(
        "platinum-lounge",
        "Platinum lounge",
        "Roadmaps, pre-release material and campaigns for Platinum partners only.",
        Rule(min_tier="platinum"),
    ),
]


@dataclass(frozen=True)
class Doc:
    """A PDF generated with demo.assets.make_pdf."""

    title: str
    language: str = "en"
    pages: int = 2
    subtitle: str = ""


@dataclass(frozen=True)
class ItemSpec:
    key: str
    kind: str  # product_sheet / training_guide / marketing_asset
    title: str
    parent: str  # "section:<slug>" (English library), "item:<key>", or "library:<language>"
    summary: str
    body: str
    product: str | None = None
    rule: Rule = ANYONE_SIGNED_IN
    attachments: tuple[Doc, ...] = ()
    extra: Mapping = field(default_factory=dict)
    # marketing assets
    asset_kind: str = ""
    master: Doc | None = None
    master_image_size: tuple[int, int] | None = None
    co_brandable: bool = True
    # history
    published_days_ago: int = 30
    updated_days_ago: int | None = None
    withdrawn: bool = False

    @property
    def color(self) -> str:
        return PRODUCTS.get(self.product or "", PROGRAMME_COLOR)


def html(text: str) -> str:
    """A tiny markup for the demo texts: blank-line separated blocks; ``## `` is a heading,
    ``### `` a sub-heading, a block of ``- `` lines a list, anything else a paragraph."""
    out = []
    for block in (b.strip() for b in text.strip().split("\n\n")):
        if not block:
            continue
        lines = [line.strip() for line in block.splitlines()]
        if block.startswith("### "):
            out.append(f"<h3>{escape(block[4:])}</h3>")
        elif block.startswith("## "):
            out.append(f"<h2>{escape(block[3:])}</h2>")
        elif all(line.startswith("- ") for line in lines):
            items = "".join(f"<li>{escape(line[2:])}</li>" for line in lines)
            out.append(f"<ul>{items}</ul>")
        else:
            out.append(f"<p>{escape(' '.join(lines))}</p>")
    return "".join(out)


def sheet(version: str, specs: list[tuple[str, str]], changelog: str) -> dict:
    return {
        "version_label": version,
        "specifications": [{"type": "spec", "value": {"name": n, "value": v}} for n, v in specs],
        "changelog": html(changelog),
    }


def guide(level: str, minutes: int, modules: list[tuple[str, list[tuple[str, str]]]]) -> dict:
    return {
        "level": level,
        "duration_minutes": minutes,
        "modules": [
            {
                "type": "module",
                "value": {
                    "title": title,
                    "steps": [{"title": st, "body": sb} for st, sb in steps],
                },
            }
            for title, steps in modules
        ],
    }


PS, TG, MA = "product_sheet", "training_guide", "marketing_asset"

ITEMS: list[ItemSpec] = [
    # ---------------------------------------------------------------- product sheets
    ItemSpec(
        "demo-x1-datasheet",
        PS,
        "X1 Edge Router datasheet",
        "section:product-sheets",
        "The X1 is a compact SD-WAN edge router for branch offices: 10 Gbit/s routing, "
        "3.5 Gbit/s IPsec and an optional 5G module, managed from Cloud Manager.",
        html("""
            The Altivo X1 brings data-centre routing to the branch. It terminates up to 500
            SD-WAN tunnels, steers traffic per application across fibre, DSL and 5G, and
            powers cameras and phones from its PoE+ ports.

            ## Where it fits
            - Retail chains and franchises with 10 to 5,000 sites
            - Branch offices that need a second WAN link over 5G
            - Replacing end-of-life routers without re-cabling

            ## Selling points
            Zero-touch provisioning: the customer plugs it in, Cloud Manager does the rest.
            Dual DC power inputs and a lifetime warranty keep truck rolls rare.
        """),
        product="X1 Router",
        attachments=(
            Doc("X1 Edge Router datasheet", "en", 3, "SD-WAN branch router"),
            Doc("X1 Edge Router – Datenblatt", "de", 2, "SD-WAN-Router für Filialen"),
        ),
        extra=sheet(
            "v3",
            [
                ("Routing throughput", "10 Gbit/s (IMIX 4.2 Gbit/s)"),
                ("IPsec VPN throughput", "3.5 Gbit/s"),
                ("SD-WAN tunnels", "up to 500"),
                ("WAN interfaces", "2 × 10G SFP+, 1 × 2.5GBASE-T, 5G module slot"),
                ("LAN interfaces", "8 × 1GBASE-T, 4 of them PoE+ (120 W budget)"),
                ("Power", "45 W typical, dual 12 V DC inputs"),
                ("Form factor", "Desktop, 1U rack kit included"),
                ("Warranty", "Limited lifetime, next-business-day replacement"),
            ],
            """
            ### v3
            - New 5G module option (X1-5G) and updated power figures.
            - IPsec throughput re-measured with firmware 8.2: 3.5 Gbit/s (was 3.1 Gbit/s).

            ### v2
            - Corrected the PoE+ budget to 120 W.
            - Added the German datasheet.

            ### v1
            - First release.
            """,
        ),
        published_days_ago=58,
        updated_days_ago=4,
    ),
    ItemSpec(
        "demo-x5-datasheet",
        PS,
        "X5 Campus Switch datasheet",
        "section:product-sheets",
        "Stackable 48-port multi-gigabit access switch with 90 W PoE++ and 4 × 25G uplinks, "
        "for campus networks and Wi-Fi 7 roll-outs.",
        html("""
            The X5 family connects everything at the edge of the campus network: desks,
            Wi-Fi 7 access points, cameras and building systems. Up to eight switches stack
            into one logical switch with a single management address.

            ## Highlights
            - 48 × 2.5GBASE-T ports, 24 of them with 90 W PoE++
            - 4 × 25G SFP28 uplinks, 2 dedicated stacking ports
            - Hot-swappable power supplies and fans

            Pair the X5 with W3 access points: PoE++ powers them at full Wi-Fi 7 performance.
        """),
        product="X5 Switch",
        attachments=(
            Doc("X5 Campus Switch datasheet", "en", 2, "Stackable multi-gigabit access switch"),
            Doc("X5 Campus Switch – Datenblatt", "de", 2, "Stapelbarer Multi-Gigabit-Switch"),
        ),
        extra=sheet(
            "v2.1",
            [
                ("Ports", "48 × 100M/1G/2.5GBASE-T"),
                ("PoE budget", "1,440 W (24 ports at 90 W PoE++)"),
                ("Uplinks", "4 × 25G SFP28"),
                ("Stacking", "up to 8 units, 400 Gbit/s ring"),
                ("Switching capacity", "640 Gbit/s"),
                ("MAC table", "64,000 entries"),
                ("Power supplies", "2 × hot-swappable, 1,100 W each"),
            ],
            """
            ### v2.1
            - Clarified the PoE budget with two power supplies.

            ### v2
            - Added the 25G uplink model X5-48MP-25.
            """,
        ),
        published_days_ago=47,
        updated_days_ago=26,
    ),
    ItemSpec(
        "demo-f9-datasheet",
        PS,
        "F9 Next-Gen Firewall datasheet",
        "section:product-sheets",
        "High-availability next-generation firewall with 20 Gbit/s threat protection, TLS "
        "inspection and sandboxing, for partners from Silver tier upwards.",
        html("""
            The F9 inspects every flow — including encrypted traffic — without becoming the
            bottleneck. Threat signatures update every 15 minutes from Altivo Threat Labs.

            ## What is inside
            - Application control for 4,000+ applications
            - Intrusion prevention, anti-malware and DNS security
            - Cloud sandbox for unknown files (licence F9-SBX)

            Only partners with a Silver or higher tier may resell the F9: it requires a
            certified security engineer on the partner's staff.
        """),
        product="F9 Firewall",
        rule=Rule(min_tier="silver"),
        attachments=(Doc("F9 Next-Gen Firewall datasheet", "en", 3, "Threat protection"),),
        extra=sheet(
            "v5",
            [
                ("Firewall throughput", "80 Gbit/s"),
                ("Threat protection throughput", "20 Gbit/s"),
                ("TLS inspection", "9 Gbit/s"),
                ("Concurrent sessions", "12 million"),
                ("Interfaces", "8 × 25G SFP28, 16 × 1/10GBASE-T"),
                ("High availability", "active/active and active/passive clusters"),
            ],
            """
            ### v5
            - Threat protection throughput measured with firmware 11.0.
            - New sandbox licence F9-SBX.
            """,
        ),
        published_days_ago=41,
    ),
    ItemSpec(
        "demo-w3-datasheet",
        PS,
        "W3 Wi-Fi 7 Access Point datasheet",
        "section:product-sheets",
        "Tri-band Wi-Fi 7 access point with 320 MHz channels, 10G uplink and a built-in "
        "Bluetooth LE / Zigbee radio for smart buildings.",
        html("""
            The W3 is Altivo's first Wi-Fi 7 access point. Multi-link operation keeps video
            calls smooth while a hundred clients share the same room.

            ## Deploy it with
            - X5 switches for 90 W PoE++
            - Cloud Manager for RF planning and firmware

            The W3 ships with ceiling and wall brackets and a tamper-proof lock.
        """),
        product="W3 Access Point",
        attachments=(
            Doc("W3 Wi-Fi 7 Access Point datasheet", "en", 2, "Tri-band access point"),
            Doc("W3 Wi-Fi 7 Access Point – Datenblatt", "de", 2, "Tri-Band Access Point"),
        ),
        extra=sheet(
            "v1",
            [
                ("Standard", "IEEE 802.11be (Wi-Fi 7), tri-band 2.4 / 5 / 6 GHz"),
                ("Maximum data rate", "18.6 Gbit/s aggregate"),
                ("Uplink", "1 × 10GBASE-T (PoE++ in)"),
                ("IoT radio", "Bluetooth LE 5.3, Zigbee"),
                ("Power draw", "38 W maximum"),
            ],
            """
            ### v1
            - First release.
            """,
        ),
        published_days_ago=12,
    ),
    ItemSpec(
        "demo-cloud-manager-datasheet",
        PS,
        "Cloud Manager 4 service description",
        "section:product-sheets",
        "One console for every Altivo router, switch, firewall and access point: zero-touch "
        "provisioning, monitoring, firmware and multi-tenant views for managed service partners.",
        html("""
            Cloud Manager runs in Altivo's EU and US data centres. Partners manage all their
            customers from one multi-tenant view and hand out read-only dashboards.

            ## Editions
            - Essentials: monitoring, firmware, configuration backup
            - Professional: templates, SD-WAN orchestration, API access
            - MSP: multi-tenancy, white-label portal, billing export
        """),
        product="Cloud Manager",
        attachments=(Doc("Cloud Manager 4 service description", "en", 3, "Cloud management"),),
        extra=sheet(
            "2026.2",
            [
                ("Hosting", "EU (Frankfurt) and US (Virginia) regions"),
                ("Availability", "99.95 % monthly SLA"),
                ("API", "REST and webhooks, OAuth 2.0"),
                ("Data retention", "13 months of statistics"),
            ],
            """
            ### 2026.2
            - MSP edition: white-label portal.
            - New webhook events for firmware roll-outs.
            """,
        ),
        published_days_ago=25,
    ),
    ItemSpec(
        "demo-x7-preview-datasheet",
        PS,
        "X7 Core Router pre-release datasheet",
        "section:platinum-lounge",
        "Preliminary specifications of the X7 400G core router, shipping in Q2 2027. "
        "Confidential: for Platinum partners' pre-sales planning only.",
        html("""
            The X7 is Altivo's first 400G core router. This pre-release datasheet lets
            Platinum partners plan early-adopter projects; figures may still change.

            ## Availability
            - Early-adopter units: Q1 2027
            - General availability: Q2 2027
        """),
        product="X7 Core Router",
        attachments=(Doc("X7 Core Router pre-release datasheet", "en", 2, "Preliminary"),),
        extra=sheet(
            "preview 0.9",
            [
                ("Routing capacity", "12.8 Tbit/s"),
                ("Interfaces", "32 × 400G QSFP-DD"),
                ("Form factor", "2U"),
            ],
            """
            ### preview 0.9
            - First preliminary figures for Platinum partners.
            """,
        ),
        published_days_ago=6,
    ),
    # ---------------------------------------------------------------- training guides
    ItemSpec(
        "demo-x1-install-guide",
        TG,
        "X1 Edge Router: installation and first configuration",
        "section:training",
        "From the box to a working branch in 45 minutes: rack the X1, claim it in Cloud "
        "Manager, run the setup wizard and hand the site over to the customer.",
        html("""
            This course is for technicians installing their first X1. You need a laptop, an X1
            with a WAN link and a Cloud Manager account.

            At the end you can install an X1 without help and explain the hand-over report
            to the customer.
        """),
        product="X1 Router",
        attachments=(Doc("X1 installation guide", "en", 3, "Training guide"),),
        extra=guide(
            "beginner",
            45,
            [
                (
                    "Unbox and rack",
                    [
                        ("Check the package", "Router, two power bricks, rack kit, console cable."),
                        ("Mount the router", "Desk feet or the 1U kit; leave 5 cm for airflow."),
                        ("Connect power and WAN", "Use WAN1 for fibre, WAN2 for DSL or 5G."),
                    ],
                ),
                (
                    "First configuration",
                    [
                        ("Claim the device", "Scan the QR code in the Cloud Manager app."),
                        ("Run the setup wizard", "Pick the branch template; it sets VLANs."),
                        ("Update the firmware", "Cloud Manager offers the recommended release."),
                    ],
                ),
                (
                    "Verify and hand over",
                    [
                        ("Run the health check", "All tests must be green before you leave."),
                        ("Export the report", "The PDF lists serials, links and settings."),
                    ],
                ),
            ],
        ),
        published_days_ago=57,
    ),
    ItemSpec(
        "demo-f9-policy-course",
        TG,
        "F9 Firewall: security policy design workshop",
        "section:training",
        "Advanced workshop for security engineers: zone design, application rules, TLS "
        "inspection exemptions and a policy review checklist. Gold partners and above.",
        html("""
            A two-hour self-paced workshop with lab exercises on a virtual F9. It prepares for
            the Altivo Certified Security Engineer exam.
        """),
        product="F9 Firewall",
        rule=Rule(min_tier="gold"),
        attachments=(Doc("F9 policy design workshop", "en", 4, "Training guide"),),
        extra=guide(
            "advanced",
            120,
            [
                (
                    "Zones and objects",
                    [
                        ("Design zones", "Separate users, servers, guests and management."),
                        ("Name objects", "One naming scheme for hosts, groups and services."),
                    ],
                ),
                (
                    "Rules that last",
                    [
                        ("Application rules", "Allow applications, not ports."),
                        ("TLS inspection", "Exempt banking and health sites by category."),
                        ("Review", "Use the checklist before every change window."),
                    ],
                ),
            ],
        ),
        published_days_ago=20,
    ),
    ItemSpec(
        "demo-cm-api-course",
        TG,
        "Cloud Manager API: building integrations",
        "section:training",
        "For technology partners: authenticate with OAuth 2.0, read inventory and statistics, "
        "react to webhooks and publish an integration in the Altivo marketplace.",
        html("""
            Technology partners build on Cloud Manager's REST API. This guide walks through a
            small integration that syncs the device inventory into a CMDB.
        """),
        product="Cloud Manager",
        rule=Rule(types=("technology",)),
        extra=guide(
            "intermediate",
            90,
            [
                (
                    "Authentication",
                    [
                        ("Register an app", "Create a client in Cloud Manager > Developers."),
                        ("Get a token", "Use the client-credentials grant; tokens last 1 h."),
                    ],
                ),
                (
                    "Inventory and webhooks",
                    [
                        ("Page through devices", "Follow the next links, 500 devices a page."),
                        ("Subscribe to events", "device.online and firmware.completed."),
                    ],
                ),
            ],
        ),
        published_days_ago=9,
    ),
    ItemSpec(
        "demo-sales-certification",
        TG,
        "Altivo sales certification: selling the portfolio",
        "section:training",
        "Thirty minutes to pitch routers, switches, firewalls and Cloud Manager: customer "
        "questions, competitive answers and the deal registration process.",
        html("""
            For sales people at resellers and referral partners. Passing the final quiz
            unlocks deal registration in the portal.
        """),
        rule=Rule(types=("reseller", "referral")),
        extra=guide(
            "beginner",
            30,
            [
                (
                    "The portfolio in five minutes",
                    [
                        ("Branch", "X1 routers and W3 access points, managed from the cloud."),
                        ("Campus", "X5 switches with PoE++ for Wi-Fi 7."),
                        ("Security", "F9 firewalls, sold by certified partners."),
                    ],
                ),
                (
                    "Registering a deal",
                    [
                        ("When", "Register before the first customer meeting."),
                        ("What you get", "Price protection for 90 days."),
                    ],
                ),
            ],
        ),
        published_days_ago=33,
    ),
    ItemSpec(
        "demo-x5-deploy-course",
        TG,
        "X5 Switch: campus deployment and stacking",
        "section:training",
        "Plan and build an X5 stack: ring cabling, member priorities, PoE budgets for Wi-Fi 7 "
        "and a zero-downtime firmware upgrade.",
        html("""
            An intermediate course for network engineers at Silver partners and above.
        """),
        product="X5 Switch",
        rule=Rule(min_tier="silver"),
        attachments=(Doc("X5 campus deployment guide", "en", 3, "Training guide"),),
        extra=guide(
            "intermediate",
            60,
            [
                (
                    "Build the stack",
                    [
                        (
                            "Cable the ring",
                            "Connect stack port 2 of each unit to port 1 of the next.",
                        ),
                        ("Set priorities", "Give the intended primary priority 15."),
                    ],
                ),
                (
                    "Operate it",
                    [
                        ("PoE budget", "Keep 10 % headroom per power supply."),
                        ("Upgrade", "Use the rolling upgrade; members reboot one by one."),
                    ],
                ),
            ],
        ),
        published_days_ago=15,
    ),
    # ---------------------------------------------------------------- marketing assets
    ItemSpec(
        "demo-x1-brochure",
        MA,
        "X1 Edge Router brochure",
        "item:demo-x1-datasheet",
        "Four-page customer brochure for the X1, co-brandable with your logo and contact "
        "details. For Gold resellers in EMEA and APAC.",
        html("""
            Hand this brochure to branch-office customers. Use Co-brand to add your logo and
            contact block in the zones on the cover.

            It sits below the X1 datasheet, so it can only narrow who sees it: Gold resellers in
            EMEA and APAC, plus Brightline Systems, which the channel team granted access.
        """),
        product="X1 Router",
        rule=Rule(
            min_tier="gold", regions=("emea", "apac"), types=("reseller",), grants=("brightline",)
        ),
        asset_kind="brochure",
        master=Doc("X1 Edge Router brochure", "en", 4, "Branch networking made simple"),
        published_days_ago=10,
    ),
    ItemSpec(
        "demo-x5-brochure",
        MA,
        "X5 Campus Switch brochure",
        "section:marketing",
        "Customer brochure for the X5 switch family: PoE++ for Wi-Fi 7, stacking and "
        "lifetime warranty. Co-brandable.",
        html("""
            Two pages for IT managers planning a campus refresh. Co-brandable with your logo.
        """),
        product="X5 Switch",
        asset_kind="brochure",
        master=Doc("X5 Campus Switch brochure", "en", 2, "Ready for Wi-Fi 7"),
        published_days_ago=30,
    ),
    ItemSpec(
        "demo-f9-battlecard",
        MA,
        "F9 Firewall competitive battlecard",
        "section:marketing",
        "How the F9 compares with the three most common competitors, with objection handling. "
        "Internal use by Gold resellers only; not for customers.",
        html("""
            Keep this battlecard internal: it quotes competitors' public price lists.

            Alpen IT Service is excluded from this item by an explicit exception (it also
            resells one of the compared brands).
        """),
        product="F9 Firewall",
        rule=Rule(min_tier="gold", types=("reseller",), exceptions=("alpen-it",)),
        asset_kind="presentation",
        master=Doc("F9 Firewall competitive battlecard", "en", 2, "Internal use only"),
        co_brandable=False,
        published_days_ago=18,
    ),
    ItemSpec(
        "demo-w3-launch-banner",
        MA,
        "W3 Wi-Fi 7 launch web banner",
        "section:marketing",
        "Wide web banner announcing the W3 Wi-Fi 7 access point, for your website or "
        "newsletter. Co-brandable.",
        html("""
            1200 × 400 pixels. Link it to your W3 landing page.
        """),
        product="W3 Access Point",
        asset_kind="banner",
        master_image_size=(1200, 400),
        published_days_ago=11,
    ),
    ItemSpec(
        "demo-x1-dach-launch-kit",
        MA,
        "X1 launch kit for the DACH market",
        "section:marketing",
        "Customer presentation, e-mail texts and event invitation for the X1 launch in "
        "Germany, Austria and Switzerland. DACH partners only.",
        html("""
            The German-language customer deck and campaign texts for the DACH launch tour
            (Berlin, Munich, Vienna, Zurich). Only partners in the DACH region see this kit;
            partners elsewhere in EMEA do not.
        """),
        product="X1 Router",
        rule=Rule(regions=("dach",)),
        asset_kind="presentation",
        master=Doc("X1 Launch-Kit DACH", "de", 3, "Kundenpräsentation"),
        published_days_ago=7,
    ),
    ItemSpec(
        "demo-emea-summit-kit",
        MA,
        "EMEA Partner Summit 2026 event kit",
        "section:marketing",
        "Slides, agenda and social media templates from the EMEA Partner Summit in Lisbon. "
        "For all EMEA partners, including DACH.",
        html("""
            Everything presented at the summit, to reuse with your own customers. The kit is
            for EMEA; partners in DACH see it too because DACH is part of EMEA.
        """),
        rule=Rule(regions=("emea",)),
        asset_kind="presentation",
        master=Doc("EMEA Partner Summit 2026 presentation", "en", 3, "Lisbon, October 2026"),
        co_brandable=False,
        published_days_ago=22,
    ),
    ItemSpec(
        "demo-apac-cm-social",
        MA,
        "Cloud Manager social post for APAC",
        "section:marketing",
        "Square social media visual for the Cloud Manager launch in the Singapore region, "
        "with suggested post texts.",
        html("""
            1080 × 1080 pixels for LinkedIn and Instagram. Suggested text: “Manage every branch
            from one screen — now hosted in Singapore.”
        """),
        product="Cloud Manager",
        rule=Rule(regions=("apac",)),
        asset_kind="social",
        master_image_size=(1080, 1080),
        published_days_ago=14,
    ),
    ItemSpec(
        "demo-na-coop-playbook",
        MA,
        "North America co-op marketing playbook",
        "section:marketing",
        "How Silver and higher partners in North America claim co-op funds: eligible "
        "activities, proof of performance and deadlines.",
        html("""
            Co-op funds reimburse up to 50 % of approved campaigns. Claims are due 60 days
            after the activity.
        """),
        rule=Rule(min_tier="silver", regions=("na",)),
        asset_kind="brochure",
        master=Doc("North America co-op marketing playbook", "en", 2, "Fiscal year 2027"),
        co_brandable=False,
        published_days_ago=37,
    ),
    ItemSpec(
        "demo-latam-distributor-kit",
        MA,
        "LATAM distributor onboarding kit",
        "section:marketing",
        "Onboarding deck for distributors in Latin America: stocking programme, demo-unit "
        "pool and reseller recruitment campaign.",
        html("""
            For distributors in Latin America: present the programme to your resellers, then
            use the recruitment e-mails to sign up new ones.
        """),
        rule=Rule(regions=("latam",), types=("distributor",)),
        asset_kind="presentation",
        master=Doc("LATAM distributor onboarding", "en", 3, "Stocking and recruitment"),
        published_days_ago=5,
    ),
    ItemSpec(
        "demo-cm-social-pack",
        MA,
        "Cloud Manager social media pack",
        "section:marketing",
        "Ready-made social posts about zero-touch provisioning with Cloud Manager. Co-brandable.",
        html("""
            Post it as is or co-brand it with your logo.
        """),
        product="Cloud Manager",
        asset_kind="social",
        master_image_size=(1080, 1080),
        published_days_ago=44,
    ),
    ItemSpec(
        "demo-x5-tradeshow-banner",
        MA,
        "X5 trade-show roll-up banner",
        "section:marketing",
        "Print-ready roll-up banner artwork for the X5 switch family, for trade shows and "
        "customer events.",
        html("""
            Artwork for an 85 × 200 cm roll-up; leave 3 mm bleed. Co-brandable.
        """),
        product="X5 Switch",
        asset_kind="banner",
        master_image_size=(800, 1200),
        published_days_ago=52,
    ),
    ItemSpec(
        "demo-referral-one-pager",
        MA,
        "Referral partner one-pager",
        "section:marketing",
        "How referral partners earn fees: what counts as a qualified lead, how to register "
        "it and when the referral fee is paid.",
        html("""
            Referral fees are 8 % of the first-year order value, paid after the customer's
            invoice is settled.
        """),
        rule=Rule(types=("referral",)),
        asset_kind="brochure",
        master=Doc("Referral partner one-pager", "en", 2, "Earn with every introduction"),
        co_brandable=False,
        published_days_ago=27,
    ),
    ItemSpec(
        "demo-roadmap-2027",
        MA,
        "Product roadmap 2027 (confidential)",
        "section:platinum-lounge",
        "The 2027 roadmap for all product lines, presented to Platinum partners under NDA: "
        "X7 core router, Wi-Fi 7 outdoor and Cloud Manager AI assistant.",
        html("""
            Under NDA. Share with customers only in joint meetings with an Altivo account
            manager. The item has no audience of its own: it inherits "Platinum only" from
            the Platinum lounge.
        """),
        asset_kind="presentation",
        master=Doc("Product roadmap 2027", "en", 3, "Confidential - Platinum partners"),
        co_brandable=False,
        published_days_ago=3,
    ),
    ItemSpec(
        "demo-platinum-mdf-banner",
        MA,
        "Platinum MDF campaign: Cloud Manager migration",
        "section:platinum-lounge",
        "Campaign banner for the market development fund programme that pays Platinum "
        "partners to migrate customers to Cloud Manager.",
        html("""
            Use it in your MDF-funded campaigns; co-brandable with your logo.
        """),
        product="Cloud Manager",
        asset_kind="banner",
        master_image_size=(1200, 628),
        published_days_ago=16,
    ),
    ItemSpec(
        "demo-programme-overview",
        MA,
        "Altivo Partner Programme 2026 at a glance",
        "section:partner-programme",
        "Tiers, benefits and requirements of the Altivo partner programme — public, so "
        "prospective partners can read it before they sign up.",
        html("""
            The programme has four tiers: Registered, Silver, Gold and Platinum. Higher tiers
            unlock more content, deal registration, co-op funds and pre-release material.

            ## How to join
            - Register your company and accept the partner agreement
            - Certify one sales person to reach Silver
        """),
        asset_kind="brochure",
        master=Doc("Altivo Partner Programme 2026", "en", 2, "Tiers and benefits"),
        rule=Rule(public=True),
        co_brandable=False,
        published_days_ago=60,
    ),
    ItemSpec(
        "demo-x5-promo-2025",
        MA,
        "X5 year-end promotion 2025",
        "section:marketing",
        "The 2025 year-end X5 promotion. Withdrawn: the promotion has ended.",
        html("""
            This promotion ended on 31 December 2025 and the item was withdrawn.
        """),
        product="X5 Switch",
        asset_kind="brochure",
        master=Doc("X5 year-end promotion 2025", "en", 2, "Offer ended 31 December 2025"),
        co_brandable=False,
        published_days_ago=59,
        withdrawn=True,
    ),
    # ---------------------------------------------------------------- German library
    ItemSpec(
        "demo-de-x5-messe-kit",
        MA,
        "X5 Switch: Messe-Kit für DACH-Partner",
        "library:de",
        "Messestand-Grafiken, Flyer und Gesprächsleitfaden für den X5 Campus-Switch. "
        "Nur für Partner in Deutschland, Österreich und der Schweiz.",
        html("""
            Alles für Ihren Messeauftritt mit dem X5: Rückwand, Roll-up, Flyer und ein
            Gesprächsleitfaden für Standbesucher.

            ## Inhalt
            - Druckdaten für Rückwand und Roll-up
            - Flyer zum Co-Branding mit Ihrem Logo
        """),
        product="X5 Switch",
        rule=Rule(regions=("dach",)),
        asset_kind="brochure",
        master=Doc("X5 Messe-Kit", "de", 2, "Für DACH-Partner"),
        published_days_ago=8,
    ),
    ItemSpec(
        "demo-de-f9-schulung",
        TG,
        "F9 Firewall: Grundlagen der Sicherheitsrichtlinien",
        "library:de",
        "Einstiegsschulung für Techniker: Zonen, Objekte und die ersten Regeln auf der F9. "
        "Ab Silver-Stufe.",
        html("""
            Diese Schulung richtet sich an Techniker, die ihre erste F9 in Betrieb nehmen.
        """),
        product="F9 Firewall",
        rule=Rule(min_tier="silver"),
        attachments=(Doc("F9 Grundlagen – Schulungsunterlage", "de", 2, "Schulung"),),
        extra=guide(
            "beginner",
            40,
            [
                (
                    "Zonen und Objekte",
                    [
                        ("Zonen anlegen", "Benutzer, Server, Gäste und Verwaltung trennen."),
                        ("Objekte benennen", "Ein Namensschema für Hosts und Dienste."),
                    ],
                ),
                (
                    "Die ersten Regeln",
                    [
                        ("Anwendungen erlauben", "Regeln nach Anwendung statt nach Port."),
                        ("Protokollieren", "Jede Regel protokolliert Treffer."),
                    ],
                ),
            ],
        ),
        published_days_ago=19,
    ),
    # ---------------------------------------------------------------- Czech library
    ItemSpec(
        "demo-cs-x1-prirucka",
        TG,
        "Router X1: instalace a první konfigurace",
        "library:cs",
        "Od krabice k fungující pobočce za 45 minut: montáž X1, přidání do Cloud Manageru "
        "a průvodce nastavením.",
        html("""
            Kurz pro techniky, kteří instalují svůj první router X1.
        """),
        product="X1 Router",
        attachments=(Doc("Router X1 – instalační příručka", "cs", 2, "Školení"),),
        extra=guide(
            "beginner",
            45,
            [
                (
                    "Vybalení a montáž",
                    [
                        ("Kontrola balení", "Router, dva napájecí zdroje, montážní sada."),
                        ("Připojení", "WAN1 pro optiku, WAN2 pro DSL nebo 5G."),
                    ],
                ),
                (
                    "První konfigurace",
                    [
                        ("Přidání zařízení", "Naskenujte QR kód v aplikaci Cloud Manager."),
                        ("Průvodce nastavením", "Zvolte šablonu pobočky."),
                    ],
                ),
            ],
        ),
        published_days_ago=13,
    ),
    ItemSpec(
        "demo-cs-w3-brozura",
        MA,
        "Přístupový bod W3 Wi-Fi 7: brožura pro zákazníky",
        "library:cs",
        "Dvoustránková brožura o přístupovém bodu W3 pro zákazníky v EMEA, s možností "
        "doplnit logo partnera.",
        html("""
            Brožura vysvětluje výhody Wi-Fi 7 a přístupového bodu W3 srozumitelně i pro
            netechnické zákazníky.
        """),
        product="W3 Access Point",
        rule=Rule(regions=("emea",)),
        asset_kind="brochure",
        master=Doc("W3 Wi-Fi 7 – brožura", "cs", 2, "Přístupový bod"),
        published_days_ago=2,
    ),
]

# Tags per demo item (kb.services.tag_normalise form): what partners filter the search by.
ITEM_TAGS: dict[str, tuple[str, ...]] = {
    "demo-x1-datasheet": ("datasheet", "sd-wan", "routing", "5g"),
    "demo-x5-datasheet": ("datasheet", "switching", "poe", "wi-fi-7"),
    "demo-f9-datasheet": ("datasheet", "security", "firewall"),
    "demo-w3-datasheet": ("datasheet", "wi-fi-7", "wireless"),
    "demo-cloud-manager-datasheet": ("datasheet", "cloud", "licensing"),
    "demo-x7-preview-datasheet": ("datasheet", "routing", "pre-release", "2027"),
    "demo-x1-install-guide": ("installation", "onboarding", "sd-wan"),
    "demo-f9-policy-course": ("security", "firewall", "certification"),
    "demo-cm-api-course": ("cloud", "api", "integration"),
    "demo-sales-certification": ("certification", "sales", "onboarding", "pricing"),
    "demo-x5-deploy-course": ("switching", "installation", "wi-fi-7"),
    "demo-x1-brochure": ("brochure", "sd-wan", "co-branding"),
    "demo-x5-brochure": ("brochure", "switching", "co-branding"),
    "demo-f9-battlecard": ("security", "competition", "pricing", "sales"),
    "demo-w3-launch-banner": ("campaign", "launch", "wi-fi-7"),
    "demo-x1-dach-launch-kit": ("campaign", "launch", "event", "dach"),
    "demo-emea-summit-kit": ("event", "campaign", "emea"),
    "demo-apac-cm-social": ("social", "cloud", "launch", "apac"),
    "demo-na-coop-playbook": ("co-op", "mdf", "campaign", "pricing"),
    "demo-latam-distributor-kit": ("onboarding", "distribution", "campaign"),
    "demo-cm-social-pack": ("social", "cloud", "co-branding"),
    "demo-x5-tradeshow-banner": ("event", "switching", "co-branding"),
    "demo-referral-one-pager": ("referral", "sales", "onboarding"),
    "demo-roadmap-2027": ("roadmap", "confidential", "2027"),
    "demo-platinum-mdf-banner": ("mdf", "campaign", "cloud", "q4-2026"),
    "demo-programme-overview": ("partner-programme", "onboarding", "pricing"),
    "demo-x5-promo-2025": ("promotion", "pricing", "switching"),
    "demo-de-x5-messe-kit": ("messe", "switching", "dach", "event"),
    "demo-de-f9-schulung": ("schulung", "security", "firewall"),
    "demo-cs-x1-prirucka": ("instalace", "sd-wan", "onboarding"),
    "demo-cs-w3-brozura": ("brožura", "wi-fi-7", "co-branding"),
}

#: Downloads recorded for Anna so "Updated since you downloaded" and "Withdrawn" have content:
#: (user e-mail, item key, attachment language or None for the master, days ago).
DOWNLOADS = [
    ("anna@acme.example", "demo-x1-datasheet", "de", 21),
    ("anna@acme.example", "demo-x5-promo-2025", None, 40),
    ("petr@brightline.example", "demo-x1-brochure", None, 6),
]

# ============================================================================================
# Seeding
# ============================================================================================


@dataclass
class LoginRow:
    email: str
    password: str
    name: str
    organization: str
    tier: str
    region: str
    partner_type: str
    role: str
    language: str
    time_zone: str
    visible_items: int


@dataclass
class DemoSummary:
    organizations: int = 0
    suspended: list[str] = field(default_factory=list)
    users: int = 0
    sections: int = 0
    items_by_kind: dict[str, int] = field(default_factory=dict)
    items_by_locale: dict[str, int] = field(default_factory=dict)
    items_created: int = 0
    items_updated: int = 0
    rules: dict[str, int] = field(default_factory=dict)
    images: int = 0
    documents: int = 0
    logins: list[LoginRow] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def items(self) -> int:
        return sum(self.items_by_kind.values())


def _sha1(data: bytes) -> str:
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


class _Seeder:
    def __init__(self, stdout: TextIO | None) -> None:
        self.stdout = stdout
        self.stored = StoredFiles()
        self.now = timezone.now()
        self.tiers: dict[str, Tier] = {}
        self.regions: dict[str, Region] = {}
        self.types: dict[str, PartnerType] = {}
        self.orgs: dict[str, PartnerOrganization] = {}
        self.users: dict[str, object] = {}
        self.sections: dict[str, LibraryIndexPage] = {}
        self.pages: dict[str, PortalItemPage] = {}
        self.image_ids: set[int] = set()
        self.document_ids: set[int] = set()
        self.summary = DemoSummary()

    def say(self, message: str) -> None:
        if self.stdout is not None:
            self.stdout.write(message + "\n")

    # -- taxonomy, organisations, users -----------------------------------------------------
    def taxonomy(self) -> None:
        # No service exists for these reference rows yet (they are edited in the admin).
        for key, name, rank in TIERS:
            self.tiers[key] = Tier.objects.update_or_create(
                key=key, defaults={"name": name, "rank": rank}
            )[0]
        for key, name, parent in REGIONS:
            self.regions[key] = Region.objects.update_or_create(
                key=key, defaults={"name": name, "parent": self.regions.get(parent)}
            )[0]
        for key, name in PARTNER_TYPES:
            self.types[key] = PartnerType.objects.update_or_create(
                key=key, defaults={"name": name}
            )[0]

    def organizations(self) -> None:
        for spec in ORGANIZATIONS:
            org = organization_upsert(
                key=spec.key,
                name=spec.name,
                tier=self.tiers[spec.tier],
                region=self.regions[spec.region],
                partner_type=self.types[spec.partner_type],
                country=spec.country,
                status=spec.status,
                contact_block=spec.contact_block,
                primary_color=spec.primary_color,
                secondary_color="#ffffff",
            )
            self._logo(org, spec)
            self.orgs[spec.key] = org
        self.summary.organizations = len(self.orgs)
        self.summary.suspended = [o.name for o in self.orgs.values() if not o.is_active]
        self.say(f"  {len(self.orgs)} organisations")

    def _logo(self, org: PartnerOrganization, spec: OrgSpec) -> None:
        # The demo stores a generated PNG once and keeps it while it is unchanged.
        data = make_logo(spec.name, color=spec.primary_color)
        if org.logo:
            try:
                with org.logo.open("rb") as current:
                    if _sha1(current.read()) == _sha1(data):
                        return
            except OSError:
                pass
        organization_set_logo(
            organization=org, name=f"{spec.key}-logo.png", content=data, stored=self.stored
        )

    def logins(self) -> None:
        for spec in USERS:
            user = user_upsert(
                email=spec.email,
                password=spec.password,
                first_name=spec.first_name,
                last_name=spec.last_name,
                preferred_language=spec.language,
                time_zone=spec.time_zone,
                organization=self.orgs[spec.organization] if spec.organization else None,
                role=spec.role,
                staff_role=spec.staff_role,
            )
            if spec.superuser and not user.is_superuser:
                user.is_superuser = True
                user.save(update_fields=["is_superuser"])
            self.users[spec.email] = user
        self.summary.users = len(self.users)
        self.say(f"  {len(self.users)} users")

    # -- library ----------------------------------------------------------------------------
    def structure(self) -> None:
        site_structure_ensure()
        library = library_for_locale("en")
        if not library.audience_public:
            # A public item is visible without login only if every section above it is public
            # too (audiences only narrow down the tree), so the English library itself must be
            # public. It adds no restriction for partners; its non-public sections still need a
            # login.
            library.audience_public = True
            library.save_revision().publish()
        for spec in SECTIONS:
            self.sections[spec.slug] = self._section(library, spec)
        self.summary.sections = len(self.sections)
        self.say(f"  {len(self.sections)} library sections")

    def _apply_rule(self, page, rule: Rule) -> None:
        page.audience_public = rule.public
        page.audience_min_tier = self.tiers[rule.min_tier] if rule.min_tier else None
        page.audience_regions = [self.regions[k] for k in rule.regions]
        page.audience_partner_types = [self.types[k] for k in rule.types]

    def _section(self, parent: LibraryIndexPage, spec: SectionSpec) -> LibraryIndexPage:
        section = LibraryIndexPage.objects.child_of(parent).filter(slug=spec.slug).first()
        if section is None:
            section = LibraryIndexPage(
                title=spec.title, slug=spec.slug, intro=html(spec.intro), locale=parent.locale
            )
            self._apply_rule(section, spec.rule)
            parent.add_child(instance=section)
            section.save_revision().publish()
            return section
        wanted = (
            spec.title,
            spec.rule.public,
            spec.rule.min_tier,
            set(spec.rule.regions),
            set(spec.rule.types),
        )
        current = (
            section.title,
            section.audience_public,
            section.audience_min_tier.key if section.audience_min_tier else None,
            {r.key for r in section.audience_regions.all()},
            {t.key for t in section.audience_partner_types.all()},
        )
        if wanted != current or not section.live:
            section.title, section.intro = spec.title, html(spec.intro)
            self._apply_rule(section, spec.rule)
            section.save_revision().publish()
        return section

    def _parent(self, ref: str):
        kind, _, name = ref.partition(":")
        if kind == "section":
            return self.sections[name]
        if kind == "item":
            return self.pages[name]
        if kind == "library":
            return library_for_locale(name)
        raise ValueError(f"unknown parent reference {ref!r}")

    def _image(self, *, title: str, data: bytes, filename: str) -> PortalImage:
        digest = _sha1(data)
        image = PortalImage.objects.filter(title=title, file_hash=digest).first()
        if image is None:
            image = PortalImage(
                title=title,
                file=ImageFile(BytesIO(data), name=filename),
                file_size=len(data),
                file_hash=digest,
            )
            image.save()
            self.stored.paths.append(image.file.name)
        self.image_ids.add(image.pk)
        return image

    def _pdf(self, spec: ItemSpec, doc: Doc) -> bytes:
        return make_pdf(
            doc.title,
            subtitle=doc.subtitle,
            pages=doc.pages,
            accent=spec.color,
            language=doc.language,
        )

    def _document(self, *, title: str, filename: str, data: bytes) -> PortalDocument:
        document = PortalDocument.objects.filter(title=title, file_hash=_sha1(data)).first()
        if document is None:
            document = document_create(name=filename, content=data, title=title, stored=self.stored)
        self.document_ids.add(document.pk)
        return document

    def item(self, spec: ItemSpec) -> PortalItemPage:
        slug = spec.key.removeprefix("demo-")
        cover = self._image(
            title=f"{spec.title} (cover)",
            data=make_product_image(
                spec.title, subtitle=spec.product or "Altivo Partner Programme", color=spec.color
            ),
            filename=f"{slug}-cover.jpg",
        )
        extra = {**spec.extra, "cover_image": cover}
        if spec.kind == MA:
            master_document = master_image = None
            if spec.master is not None:
                master_document = self._document(
                    title=spec.master.title,
                    filename=f"{slug}.pdf",
                    data=self._pdf(spec, spec.master),
                )
            if spec.master_image_size is not None:
                master_image = self._image(
                    title=spec.title,
                    data=make_product_image(
                        spec.title,
                        subtitle=spec.summary.split(".")[0][:80],
                        color=spec.color,
                        size=spec.master_image_size,
                        fmt="PNG",
                    ),
                    filename=f"{slug}.png",
                )
            extra.update(
                asset_kind=spec.asset_kind,
                master_document=master_document,
                master_image=master_image,
                co_brandable=spec.co_brandable,
            )
        files = []
        for doc in spec.attachments:
            data = self._pdf(spec, doc)
            files.append(
                FileSpec(
                    name=f"{slug}-{doc.language}.pdf",
                    content=data,
                    language=doc.language,
                    title=f"{doc.title} ({doc.language.upper()})",
                )
            )
        rule = spec.rule
        existed = ItemKey.objects.filter(key=spec.key).exists()
        page = item_upsert(
            key=spec.key,
            kind=spec.kind,
            title=spec.title,
            parent=self._parent(spec.parent),
            body=spec.body,
            summary=spec.summary,
            product=product_ensure(name=spec.product) if spec.product else None,
            audience=Audience(
                min_tier=self.tiers[rule.min_tier] if rule.min_tier else None,
                regions=[self.regions[k] for k in rule.regions],
                partner_types=[self.types[k] for k in rule.types],
                public=rule.public,
                grants=[self.orgs[k] for k in rule.grants],
                exceptions=[self.orgs[k] for k in rule.exceptions],
            ),
            files=files,
            extra=extra,
            tags=ITEM_TAGS.get(spec.key, ()),
            stored=self.stored,
        )
        if spec.withdrawn:
            page.unpublish()
        if existed:
            self.summary.items_updated += 1
        else:
            self.summary.items_created += 1
        self.document_ids.update(page.attachments.values_list("document_id", flat=True))
        self.pages[spec.key] = page
        return page

    def items(self) -> None:
        for spec in ITEMS:
            self.item(spec)
        self.say(
            f"  {len(self.pages)} items ({self.summary.items_created} created, "
            f"{self.summary.items_updated} updated)"
        )

    def history(self) -> None:
        """Spread publication dates over the last 60 days ("New for you" covers 30) and record
        a few downloads, so the home page's feeds have something to show."""
        for spec in ITEMS:
            first = self._days_ago(spec.published_days_ago, spec.key)
            updated = spec.updated_days_ago
            last = first if updated is None else self._days_ago(updated, spec.key + ":updated")
            Page.objects.filter(pk=self.pages[spec.key].pk).update(
                first_published_at=first, last_published_at=last
            )
        for email, key, language, days in DOWNLOADS:
            user, page = self.users[email], self.pages[key]
            specific = page.specific
            if language is None:
                document_id = specific.master_document_id
            else:
                document_id = (
                    specific.attachments.filter(language=language)
                    .values_list("document_id", flat=True)
                    .first()
                )
            # Downloads are recorded by the download view; there is no service to call.
            event = DownloadEvent.objects.filter(user=user, item_id=page.pk).first()
            if event is None:
                event = DownloadEvent.objects.create(
                    user=user,
                    organization=user.membership.organization,
                    item_id=page.pk,
                    document_id=document_id,
                )
            DownloadEvent.objects.filter(pk=event.pk).update(
                downloaded_at=self._days_ago(days, key + email), document_id=document_id
            )

    def _days_ago(self, days: int, seed: str):
        """``days`` ago at a stable working-hours time (never in the future)."""
        minutes = int(_sha1(seed.encode())[:6], 16) % (9 * 60)
        moment = (self.now - timedelta(days=days)).replace(
            hour=8, minute=0, second=0, microsecond=0
        ) + timedelta(minutes=minutes)
        return min(moment, self.now - timedelta(minutes=5))

    # -- summary ----------------------------------------------------------------------------
    def summarize(self) -> None:
        s = self.summary
        kinds: Counter[str] = Counter()
        locales: Counter[str] = Counter()
        for spec in ITEMS:
            kinds[spec.kind] += 1
            locales[self.pages[spec.key].locale.language_code] += 1
        s.items_by_kind = dict(kinds)
        s.items_by_locale = dict(locales)
        s.rules = {
            "minimum tier": sum(1 for i in ITEMS if i.rule.min_tier),
            "regions": sum(1 for i in ITEMS if i.rule.regions),
            "partner types": sum(1 for i in ITEMS if i.rule.types),
            "public": sum(1 for i in ITEMS if i.rule.public),
            "grants": sum(len(i.rule.grants) for i in ITEMS),
            "exceptions": sum(len(i.rule.exceptions) for i in ITEMS),
            "child items": sum(1 for i in ITEMS if i.parent.startswith("item:")),
            "restricted sections": sum(1 for x in SECTIONS if x.rule != ANYONE_SIGNED_IN),
            "withdrawn": sum(1 for i in ITEMS if i.withdrawn),
        }
        s.images = len(self.image_ids)
        s.documents = len(self.document_ids)
        User = get_user_model()
        for spec in USERS:
            user = User.objects.get(pk=self.users[spec.email].pk)  # no cached principal
            org = self.orgs.get(spec.organization) if spec.organization else None
            if org is not None:
                role = dict(Membership.Role.choices)[spec.role]
            else:
                role = "superuser" if spec.superuser else f"staff: {spec.staff_role}"
            s.logins.append(
                LoginRow(
                    email=spec.email,
                    password=spec.password,
                    name=spec.name,
                    organization=(
                        (org.name if org.is_active else f"{org.name} (suspended)")
                        if org
                        else "Altivo Networks (vendor)"
                    ),
                    tier=org.tier.name if org else "—",
                    region=org.region.name if org else "—",
                    partner_type=org.partner_type.name if org else "—",
                    role=str(role),
                    language=spec.language,
                    time_zone=spec.time_zone,
                    visible_items=PortalItemPage.objects.live().visible_to(user).count(),
                )
            )


def demo_seed(*, stdout: TextIO | None = None) -> DemoSummary:
    """Create or update the demo world (organisations, logins, library, items, files).

    Idempotent; all-or-nothing: on an error the database is rolled back and the files written
    so far are deleted.

    Parameters:
        stdout: where to write progress lines (nothing is written when ``None``).

    Returns:
        Counts and the login table (see docs/demo.md).
    """
    started = time.monotonic()
    seeder = _Seeder(stdout)
    try:
        with transaction.atomic(), access_change_source(source=AccessChange.Source.DEMO):
            seeder.say("Seeding the demo…")
            seeder.taxonomy()
            seeder.organizations()
            seeder.logins()
            seeder.structure()
            seeder.items()
            seeder.history()
            seeder.summarize()
    except BaseException:
        seeder.stored.discard()
        raise
    seeder.summary.seconds = time.monotonic() - started
    return seeder.summary

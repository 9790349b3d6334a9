"""``demo.loader`` reads demo/data/*.json into the specs ``demo.builder`` seeds (no database).

The first test pins the demo itself: the specs as of issue #11 (the demo of demo/data.py before
issue #10, whose German and Czech items became wagtail-localize translations of English sources,
with section translations, marketers' locales, localized files, a translation in review and a
narrowed one), so pages, titles, slugs, texts, audiences, logins and generated files stay the
same. Changing the demo on purpose means updating docs/demo.md and the digest below.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from demo import loader
from demo.loader import ANYONE_SIGNED_IN, DemoDataError, Doc, Rule, html

#: sha256 of _canonical(_fresh()) (issue #13: co-brand templates of the PDF masters; before it:
#: 9a765e8f…, issue #12's headings as blocks, sheet versions, Anna's and Petr's daily digest).
DEMO_DIGEST = "69d2ffa7b9b74fd3c4e262f01eb3d63f20bcc3a4d033e8a24cb522f2403af575"


def _canonical(data: loader.DemoData) -> str:
    """Every field of every spec (plus the derived item colours and login names) as JSON."""
    return json.dumps(
        {
            "specs": dataclasses.asdict(data),
            "colors": [item.color for item in data.items],
            "names": [user.name for user in data.users],
        },
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )


def _fresh() -> loader.DemoData:
    """Read the files again: seeding (in the same test process) may have mutated the cached
    specs in place (Wagtail gives the StreamField blocks of ``extra`` ids)."""
    return loader.load_demo.__wrapped__()


def test_the_demo_is_the_pinned_one():
    digest = hashlib.sha256(_canonical(_fresh()).encode()).hexdigest()
    assert digest == DEMO_DIGEST, "the demo data changed: update docs/demo.md and DEMO_DIGEST"


def test_shapes_and_defaults():
    data = _fresh()
    counts = (len(data.organizations), len(data.users), len(data.sections), len(data.items))
    assert counts == (11, 19, 5, 39)
    assert len(data.item_tags) == len(data.items)
    kestrel = next(o for o in data.organizations if o.key == "kestrel")
    assert kestrel.status == "suspended"
    assert "\n" in kestrel.contact_block
    anna = next(u for u in data.users if u.email == "anna@acme.example")
    assert anna.digest == "daily"
    assert {u.email for u in data.users if u.digest} == {
        "anna@acme.example",
        "petr@brightline.example",
    }
    assert (anna.organization, anna.role, anna.name) == ("acme", "member", "Anna Schmidt")
    assert isinstance(anna.sees, tuple)
    lounge = next(s for s in data.sections if s.slug == "platinum-lounge")
    assert lounge.rule == Rule(min_tier="platinum")
    assert next(s for s in data.sections if s.slug == "training").rule == ANYONE_SIGNED_IN
    x1 = data.items[0]
    assert x1.attachments[0].title == "X1 Edge Router datasheet"
    assert (x1.attachments[0].pages, x1.attachments[0].subtitle) == (3, "SD-WAN branch router")
    # Later versions of the file: v2 published, v3 pending (docs/file-versions.md).
    assert [(v.label, v.pending) for v in x1.attachments[0].versions] == [
        ("2026.2", False),
        ("2027.1", True),
    ]
    german = next(i for i in data.items if i.key == "demo-de-x1-datasheet")
    assert german.attachments[0] == Doc(
        "X1 Edge Router – Datenblatt",
        "de",
        2,
        "SD-WAN-Router für Filialen",
        localizes="X1 Edge Router datasheet",
        out_of_date=True,
    )
    assert x1.extra["version_label"] == "v3"
    assert x1.body.startswith("<p>The Altivo X1")
    assert x1.color == data.taxonomy.products["X1 Router"]
    assert data.downloads[0] == ("anna@acme.example", "demo-de-x1-datasheet", "de", 21)
    assert data.downloads[1] == ("anna@acme.example", "demo-x5-promo-2025", None, 40)
    jiri = next(u for u in data.users if u.email == "jiri@vendor.example")
    assert (jiri.staff_role, jiri.locales) == ("marketer", ("cs",))
    training = next(s for s in data.sections if s.slug == "training")
    assert training.translations == (("cs", "Školení"), ("de", "Schulungen"))
    guide = next(i for i in data.items if i.key == "demo-cs-x1-prirucka")
    assert (guide.parent, guide.translation_of, guide.locale) == (
        None,
        "demo-x1-install-guide",
        "cs",
    )
    assert guide.attachments[0].localizes == "X1 installation guide"
    assert guide.attachments[0].out_of_date
    review = next(i for i in data.items if i.in_review_by)
    assert (review.key, review.in_review_by) == ("demo-cs-f9-datasheet", "jiri@vendor.example")


def test_html_markup():
    assert html("## Title\n\nOne\ntwo\n\n- a\n- b & c") == (
        "<h2>Title</h2><p>One two</p><ul><li>a</li><li>b &amp; c</li></ul>"
    )


def test_html_heading_does_not_swallow_the_list_or_paragraph_below_it():
    # The demo texts' headings are followed directly by their list (no blank line): each is a
    # block of its own, as the editor would have stored them (issue #12: the list used to end
    # up inside the heading).
    assert html("Intro line\n## Where it fits\n    - Retail\n    - Branches\nAfter.") == (
        "<p>Intro line</p><h2>Where it fits</h2><ul><li>Retail</li><li>Branches</li></ul>"
        "<p>After.</p>"
    )
    assert html("### v2\n- One\n\n### v1\nFirst\nrelease") == (
        "<h3>v2</h3><ul><li>One</li></ul><h3>v1</h3><p>First release</p>"
    )
    assert html("- a\n\n- b") == "<ul><li>a</li></ul><ul><li>b</li></ul>"
    assert html("") == ""


def test_demo_texts_have_no_list_or_paragraph_inside_a_heading():
    import re

    data = loader.load_demo()
    texts = [item.body for item in data.items] + [
        note for item in data.items for _label, note in item.versions
    ]
    heading = re.compile(r"<h[23]>(.*?)</h[23]>")
    for text in texts:
        for title in heading.findall(text):
            assert "- " not in title and len(title) < 60, title


def test_sheet_versions_come_from_the_changelog_newest_first():
    x1 = next(i for i in loader.load_demo().items if i.key == "demo-x1-datasheet")
    assert [label for label, _note in x1.versions] == ["v3", "v2", "v1"]
    assert x1.extra["version_label"] == "v3"
    assert x1.extra["change_note"] == x1.versions[0][1]
    assert x1.versions[2][1] == "<ul><li>First release.</li></ul>"
    assert x1.extra["changelog"] == ""


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A writable copy of demo/data/ that the (uncached) loader reads instead."""
    copy = tmp_path / "data"
    shutil.copytree(loader.DATA_DIR, copy)
    monkeypatch.setattr(loader, "DATA_DIR", copy)
    loader.load_taxonomy.cache_clear()
    yield copy
    loader.load_taxonomy.cache_clear()


def _edit(data_dir: Path, name: str, change) -> None:
    path = data_dir / name
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_copy_loads_the_same():
    original = _fresh()
    assert _fresh() == original  # nothing shared between two reads


def test_the_copy_is_read(data_dir):
    _edit(data_dir, "users.json", lambda d: d["users"][0].update(first_name="Anne"))
    assert _fresh().users[0].name == "Anne Schmidt"


def _translation(**fields):
    """Change the Czech install guide (a translation) in the parsed items.json."""

    def change(data):
        item = next(i for i in data["items"] if i["key"] == "demo-cs-x1-prirucka")
        for name, value in fields.items():
            if value is None:
                item.pop(name, None)
            else:
                item[name] = value

    return change


def _localizes(title):
    def change(data):
        item = next(i for i in data["items"] if i["key"] == "demo-cs-x1-prirucka")
        item["attachments"][0]["localizes"] = title

    return change


def _section_translation(code):
    def change(data):
        data["sections"][1]["translations"] = {code: "Titre"}

    return change


def _user_locales(email):
    def change(data):
        next(u for u in data["users"] if u["email"] == email)["locales"] = ["cs"]

    return change


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [
        ("items.json", lambda d: d["items"][0].update(titel="x"), "unknown ['titel']"),
        ("items.json", lambda d: d["items"][0].pop("summary"), "missing ['summary']"),
        ("items.json", lambda d: d["items"][0].update(kind="video"), "unknown kind 'video'"),
        ("items.json", lambda d: d["items"][0].update(rule={"regions": ["mars"]}), "'mars'"),
        ("items.json", lambda d: d["items"][0].update(parent="section:nope"), "section:nope"),
        ("users.json", lambda d: d["users"][0].update(organization="nope"), "organisation 'nope'"),
        ("users.json", lambda d: d["users"][0].update(sees=["demo-nope"]), "'demo-nope'"),
        ("organizations.json", lambda d: d["organizations"][0].update(tier="gld"), "'gld'"),
        ("downloads.json", lambda d: d["downloads"][0].update(item="demo-nope"), "'demo-nope'"),
        ("taxonomy.json", lambda d: d["regions"][1].update(parent="europe"), "'europe'"),
        # translations
        ("items.json", _translation(parent="library:cs"), "exactly one of 'parent'"),
        ("items.json", _translation(locale=None), "go together"),
        ("items.json", _translation(translation_of="demo-nope"), "not an earlier item"),
        ("items.json", _translation(translation_of="demo-cs-w3-brozura"), "not an earlier item"),
        ("items.json", _translation(translation_of="demo-de-f9-schulung"), "not an English"),
        ("items.json", _translation(locale="fr"), "unknown translation locale 'fr'"),
        ("items.json", _translation(rule={"grants": ["acme"]}), "set on the source only"),
        ("items.json", _translation(kind="marketing_asset"), "differs from its source's"),
        ("items.json", _translation(translation_of="demo-x1-brochure"), "demo-x1-datasheet"),
        ("items.json", _translation(in_review_by="eva@vendor.example"), "not a marketer of"),
        ("items.json", _localizes("Nope"), "which is not an attachment"),
        ("sections.json", _section_translation("fr"), "translation locale 'fr'"),
        ("users.json", _user_locales("anna@acme.example"), "locales are for marketers only"),
    ],
)
def test_malformed_data_is_refused(data_dir, name, change, message):
    _edit(data_dir, name, change)
    with pytest.raises(DemoDataError, match=message.replace("[", r"\[").replace("]", r"\]")):
        _fresh()

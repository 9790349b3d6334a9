"""``{% item_card %}`` renders exactly what the template it replaced rendered."""

from __future__ import annotations

import zoneinfo

import pytest
from django.template import engines
from django.utils import timezone, translation
from django.utils.html import escape

from kb.models import PortalItemPage
from kb.services import library_for_locale, product_ensure
from kb.tests.factories import make_item

pytestmark = pytest.mark.django_db

# kb/templates/kb/includes/item_card.html as it was when the tag replaced it (the reference).
REFERENCE = """{% load i18n wagtailcore_tags %}
<article class="card item-card">
  {% if item.cover_image_id %}<img src="{% url 'kb:item_image' item.pk 'cover' 'thumb' %}?v={{ item.cover_image_id }}" alt="" width="480" height="300" loading="lazy">{% endif %}
  <div class="card-body">
    <p class="meta"><span class="badge">{{ item.kind_label|capfirst }}</span>{% if item.product %} · <bdi>{{ item.product.name }}</bdi>{% endif %} · {{ item.locale.language_code|upper }}</p>
    <h3><a href="{% pageurl item %}">{{ item.title }}</a></h3>
    {% if item.summary %}<p>{{ item.summary|truncatewords:30 }}</p>{% endif %}
    <p class="meta">{% if item.last_published_at %}<time datetime="{{ item.last_published_at|date:'c' }}">{{ item.last_published_at|date:"DATE_FORMAT" }}</time>{% endif %}</p>
  </div>
</article>
"""  # noqa: E501


@pytest.fixture
def items(portal):
    long_summary = " ".join(f"word{n}" for n in range(40)) + " <b>&</b>"
    made = [
        make_item(
            key="sheet",
            title="R&D <beta> sheet",
            summary=long_summary,
            product=product_ensure(name="X1 & <Router>"),
        ),
        make_item(key="guide", kind="training_guide", summary="Short one."),
        make_item(key="asset", kind="marketing_asset"),
        make_item(key="de-item", parent=library_for_locale("de"), title="Übersicht"),
    ]
    found = list(
        PortalItemPage.objects.filter(pk__in=[i.pk for i in made])
        .select_related("product", "locale")
        .order_by("pk")
    )
    found[0].cover_image_id = 4242  # only its id is read (the checked image view's URL)
    found[2].last_published_at = None
    return found


@pytest.mark.parametrize("language", ["en", "de", "cs"])
@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/Sao_Paulo"])
def test_item_card_is_the_template_it_replaced(items, rf, language, zone):
    request = rf.get("/")
    reference = engines["django"].from_string(REFERENCE)
    tag = engines["django"].from_string("{% load kb_cards %}{% item_card item %}")
    with translation.override(language), timezone.override(zoneinfo.ZoneInfo(zone)):
        for item in items:
            context = {"item": item, "request": request}
            expected = reference.render(context, request)
            assert tag.render(context, request) == expected
            assert f">{escape(item.title)}</a>" in expected

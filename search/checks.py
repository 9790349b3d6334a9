"""System checks: the index declaration (search/fields.py) and the database tables agree, and
the search settings name what exists."""

from __future__ import annotations

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.models)
def check_index_declaration(app_configs=None, **kwargs):
    from .fields import FACETS, FILTER_FIELDS, TEXT_FIELDS
    from .models import SearchEntry, SearchText

    errors = []
    text_columns = {f.name for f in SearchText._meta.get_fields()}
    entry_columns = {f.name for f in SearchEntry._meta.get_fields()}
    for field in TEXT_FIELDS:
        if field.field_name not in text_columns:
            errors.append(
                checks.Error(
                    f"search/fields.py declares the text field {field.field_name!r}, "
                    "which SearchText has no column for",
                    hint="add the column and the full-text structures in a migration",
                    id="portal_search.E001",
                )
            )
    for field in FILTER_FIELDS:
        if field.field_name not in entry_columns:
            errors.append(
                checks.Error(
                    f"search/fields.py declares the filter field {field.field_name!r}, "
                    "which SearchEntry has no column for",
                    id="portal_search.E002",
                )
            )
    declared = {f.field_name for f in FILTER_FIELDS}
    for facet, field_name in FACETS.items():
        if field_name not in declared:
            errors.append(
                checks.Error(
                    f"the facet {facet!r} names {field_name!r}, which is not a filter field",
                    id="portal_search.E003",
                )
            )
    return errors


@checks.register()
def check_search_settings(app_configs=None, **kwargs):
    from django.core.exceptions import ImproperlyConfigured

    from .backends import chain_names
    from .transport import NODE_CLASSES

    errors = []
    if settings.PORTAL_SEARCH_FLAVOR not in NODE_CLASSES:
        errors.append(
            checks.Error(
                f"PORTAL_SEARCH_FLAVOR={settings.PORTAL_SEARCH_FLAVOR!r} is not one of "
                f"{', '.join(NODE_CLASSES)}",
                id="portal_search.E010",
            )
        )
    try:
        chain_names()
    except ImproperlyConfigured as exc:
        errors.append(checks.Error(str(exc), id="portal_search.E011"))
    return errors

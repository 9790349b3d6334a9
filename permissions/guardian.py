"""Guardian glue: all Wagtail page classes share the base Page content type."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from wagtail.models import Page


def get_content_type(obj: Model | type[Model]) -> ContentType:
    """Map any Page subclass (or instance) to wagtailcore.Page; other models keep their own type.

    Why: a grant is made on "this page", whichever specific class the page is loaded as.
    Without this, guardian would look for permissions on kb.ProductSheetPage and miss rows
    made on Page.
    """
    model = obj if isinstance(obj, type) else type(obj)
    if issubclass(model, Page):
        return ContentType.objects.get_for_model(Page)
    return ContentType.objects.get_for_model(obj)

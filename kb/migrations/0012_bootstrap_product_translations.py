"""Products become translatable (2/3): every existing product is a source in the default locale
(its own new translation_key). Backwards: nothing to undo (0010's reverse drops the fields)."""

from django.db import migrations
from wagtail.models import BootstrapTranslatableModel


class Migration(migrations.Migration):
    dependencies = [("kb", "0011_product_translatable_fields")]

    operations = [BootstrapTranslatableModel("kb.Product")]

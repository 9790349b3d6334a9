"""Products become translatable (3/3): ``locale`` and ``translation_key`` required, one row per
(translation_key, locale), and the product ``key`` unique per locale (a translation keeps its
source's key)."""

import uuid

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("kb", "0012_bootstrap_product_translations"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [
        migrations.AlterField(
            model_name="product",
            name="translation_key",
            field=models.UUIDField(default=uuid.uuid4, editable=False),
        ),
        migrations.AlterField(
            model_name="product",
            name="locale",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="wagtailcore.locale",
                verbose_name="locale",
            ),
        ),
        migrations.AlterField(
            model_name="product",
            name="key",
            field=models.SlugField(
                validators=[
                    django.core.validators.RegexValidator(
                        "^[a-z0-9][a-z0-9_-]*$", "Lower-case letters, digits, - and _."
                    )
                ]
            ),
        ),
        migrations.AlterUniqueTogether(
            name="product",
            unique_together={("translation_key", "locale")},
        ),
        migrations.AddConstraint(
            model_name="product",
            constraint=models.UniqueConstraint(
                fields=("key", "locale"), name="kb_product_key_locale_uniq"
            ),
        ),
    ]

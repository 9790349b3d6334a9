"""The portal's document model (WAGTAILDOCS_DOCUMENT_MODEL).

Custom from the first migration so file versions and localized files can extend it without a swap.
"""

from django.utils.translation import gettext_lazy as _
from wagtail.documents.models import AbstractDocument, Document


class PortalDocument(AbstractDocument):
    admin_form_fields = Document.admin_form_fields

    class Meta(AbstractDocument.Meta):
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        # Moved from kb (issue #10): the table keeps its name, so nothing is copied.
        db_table = "kb_portaldocument"

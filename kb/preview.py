""" "Preview as": the page editor's preview of a library section or item as a chosen partner
organisation or user would see it, from the editor's unsaved form (Wagtail's preview posts the
form and calls ``serve_preview`` on the unsaved page).

Who may use it, whom one may preview as, and whether they would see the page (and why not) are
decided by permissions.policies.pages (``preview_as_choices``, ``preview_as_resolve``,
``page_policy.explain_draft``); this module only stores the choice in the editor's session and
renders the answer.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from permissions.policies.files import document_policy
from permissions.policies.pages import page_access_policy, page_policy, preview_as_resolve

if TYPE_CHECKING:
    from wagtail.models import Page

#: The preview mode that renders the page as the chosen partner (``preview_modes`` of the
#: library's pages); the first mode stays Wagtail's own (as staff see it).
PREVIEW_AS_MODE = "as-partner"
PREVIEW_MODES = [
    ("", gettext_lazy("As staff see it")),
    (PREVIEW_AS_MODE, gettext_lazy("As the partner chosen in “Preview as”")),
]
#: The editor's choice ("org:<id>" / "user:<id>"), kept in their session for every preview.
SESSION_KEY = "kb_preview_as"

_MAIN_OPEN = re.compile(r"<main\b[^>]*>")


@require_POST
def preview_as_set(request: HttpRequest) -> JsonResponse:
    """Store (or with an empty ``principal``, forget) whom the editor previews pages as."""
    if not page_access_policy.user_has_permission(request.user, "preview_as"):
        return JsonResponse(
            {"ok": False, "error": _("You may not preview as a partner.")}, status=403
        )
    value = request.POST.get("principal", "")
    if not value:
        request.session.pop(SESSION_KEY, None)
        return JsonResponse({"ok": True, "label": ""})
    chosen = preview_as_resolve(request.user, value)
    if chosen is None:
        return JsonResponse(
            {"ok": False, "error": _("Choose an organisation or user.")}, status=400
        )
    request.session[SESSION_KEY] = chosen.value
    return JsonResponse({"ok": True, "label": chosen.label})


def preview_as_serve(page: Page, request: HttpRequest, render: Any) -> HttpResponse:
    """The page as the principal chosen in the editor's session would see it once published.

    ``render(request)`` renders the page as usual (Wagtail's ``serve_preview``). Hidden from
    them: a page saying so, with the policy's reasons, instead of the content. Visible: the page
    rendered for them (their files, their navigation), files they may not get left out and
    named in a banner.
    """
    editor = request.user
    if not page_access_policy.user_has_permission(editor, "preview_as"):
        return _notice(request, "forbidden", status=403)
    chosen = preview_as_resolve(editor, request.session.get(SESSION_KEY, ""))
    if chosen is None:
        return _notice(request, "choose")
    explanation = page_policy.explain_draft(chosen.principal, page)
    if not explanation.visible:
        return _notice(request, "hidden", label=chosen.label, reasons=explanation.reasons)
    request.user = chosen.user
    response = render(request)
    hidden = _hide_files(response, chosen.user)
    banner = render_to_string(
        "kb/admin/preview_as_banner.html",
        {"label": chosen.label, "reasons": explanation.reasons, "hidden_files": hidden},
        request=request,
    )
    if hasattr(response, "render"):
        response.add_post_render_callback(lambda done: _insert_banner(done, banner))
    else:
        _insert_banner(response, banner)
    return response


def _hide_files(response: HttpResponse, stand_in: Any) -> list[str]:
    """Leave out of the page the files the principal may not be served (their version expired
    or was deleted: ``document_policy.can_have_version``); return their titles."""
    from files.models import PortalDocument

    context = getattr(response, "context_data", None) or {}
    files = context.get("files")
    if not isinstance(files, dict) or not files.get("files"):
        return []
    documents = PortalDocument.objects.in_bulk([f.document_id for f in files["files"]])
    shown, hidden = [], []
    for entry in files["files"]:
        document = documents.get(entry.document_id)
        if document is not None and document_policy.can_have_version(stand_in, document):
            shown.append(entry)
        else:
            hidden.append(entry.title)
    files["files"] = shown
    return hidden


def _insert_banner(response: HttpResponse, banner: str) -> HttpResponse:
    """Put the banner first in the page's ``<main>`` (or first in the body)."""
    content = response.content.decode(response.charset or "utf-8")
    match = _MAIN_OPEN.search(content)
    if match is None:
        match = re.search(r"<body\b[^>]*>", content)
    at = match.end() if match else 0
    response.content = (content[:at] + banner + content[at:]).encode(response.charset or "utf-8")
    return response


def _notice(request: HttpRequest, state: str, status: int = 200, **context: Any) -> HttpResponse:
    return TemplateResponse(
        request, "kb/admin/preview_as.html", {"state": state, **context}, status=status
    )

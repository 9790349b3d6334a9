"""Who a co-branded file was made for: the token stamped into it (``engine.read_stamp``) →
its ``CobrandIssue`` → a dict (``manage.py identify_file``, the admin's "Identify a file").

The keys ``organization`` (organisation key), ``user`` (e-mail), ``item`` (bundle key, else the
page id), ``version`` (master version number) and ``rendered_at`` (ISO 8601 UTC) are a contract:
keys may be added, never renamed.
"""

from __future__ import annotations

from datetime import UTC

from django.utils.translation import gettext as _

from . import engine
from .models import CobrandIssue


class NotIdentified(Exception):  # noqa: N818 - reads better at the call site
    """The file carries no identifier, or one this portal never issued; ``str(exc)`` says which."""


def _iso(moment) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def issue_record(issue: CobrandIssue) -> dict:
    """The identification of one issue (see module doc for the fixed keys)."""
    return {
        "organization": issue.organization_key,
        "user": issue.user_email or None,
        "item": issue.item_key or issue.item_page_id,
        "version": issue.master_version,
        "rendered_at": _iso(issue.rendered_at),
        # Extras (may grow):
        "token": issue.token,
        "item_id": issue.item_page_id,
        "item_title": issue.item_title,
        "master_kind": issue.master_kind,
        "template_version": issue.template_version,
        "brand_kit_version": issue.brand_kit_version,
        "share_link": issue.share_link_id,
        "issued_at": _iso(issue.created_at),
    }


def identify_token(token: str) -> dict:
    """The identification of ``token``. Raises ``NotIdentified`` for a token never issued."""
    issue = CobrandIssue.objects.filter(token=token).first()
    if issue is None:
        raise NotIdentified(
            _("The file carries the identifier %(token)s, but this portal never issued it.")
            % {"token": token}
        )
    return issue_record(issue)


def identify_bytes(content: bytes) -> dict:
    """The identification of a co-branded file's bytes (never stored).

    Raises:
        NotIdentified: no identifier in the file (not a co-branded download, or its metadata
            was stripped), or an unknown one.
    """
    try:
        token = engine.read_stamp(content)
    except engine.CobrandError:
        token = None
    if not token:
        raise NotIdentified(
            _(
                "No co-brand identifier found in this file: it is not a co-branded download "
                "from this portal, or its metadata was removed."
            )
        )
    return identify_token(token)

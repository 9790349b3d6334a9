"""Background work of the accounts app (django-tasks)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tasks import task

logger = logging.getLogger("portal.accounts")


@task()
def send_password_reset_task(email: str) -> int:
    """E-mail a reset link to every active account with a usable password at ``email``, each in
    the user's own language (``preferred_language``). Returns how many were sent (0 for an
    address nobody has: the page that queued this said the same either way).

    Links point at ``WAGTAILADMIN_BASE_URL`` (``PORTAL_BASE_URL``), never at the request's Host
    header, which a client chooses.
    """
    base_url = settings.WAGTAILADMIN_BASE_URL.rstrip("/")
    sent = 0
    # Django's own lookup: case-insensitive, active users with a usable password only.
    for user in PasswordResetForm().get_users(email):
        path = reverse(
            "password_reset_confirm",
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": default_token_generator.make_token(user),
            },
        )
        context = {
            "user": user,
            "reset_url": f"{base_url}{path}",
            "valid_minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
        }
        with translation.override(user.preferred_language or settings.LANGUAGE_CODE):
            subject = render_to_string("accounts/email/password_reset_subject.txt", context)
            body = render_to_string("accounts/email/password_reset_email.txt", context)
        send_mail(" ".join(subject.split()), body, None, [user.email])
        sent += 1
    logger.info("password reset: %s e-mail(s) sent", sent)
    return sent


@task()
def send_invitation_task(invitation_id: int) -> bool:
    """E-mail the accept link of a pending invitation, in the inviter's language (the invitee
    has no account, so no language of their own yet). Returns whether it was sent.

    The link's token is made here (``invitation_issue_token``: only its hash is stored), so no
    working link ever sits in the task queue or the database. A revoked, accepted or expired
    invitation is not sent.
    """
    from .models import Invitation
    from .services import invitation_issue_token

    invitation = (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or not invitation.is_pending:
        return False
    token = invitation_issue_token(invitation=invitation)
    base_url = settings.WAGTAILADMIN_BASE_URL.rstrip("/")
    path = reverse("accounts:invitation_accept", kwargs={"token": token})
    inviter = invitation.invited_by
    context = {
        "invitation": invitation,
        "organization": invitation.organization,
        "inviter": inviter,
        "accept_url": f"{base_url}{path}",
    }
    language = (inviter.preferred_language if inviter else None) or settings.LANGUAGE_CODE
    with translation.override(language):
        subject = render_to_string("accounts/email/invitation_subject.txt", context)
        body = render_to_string("accounts/email/invitation_email.txt", context)
    send_mail(" ".join(subject.split()), body, None, [invitation.email])
    logger.info("invitation %s sent", invitation.pk)
    return True

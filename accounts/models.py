"""Identity: the custom user model (e-mail login, preferred language, time zone).

It exists from the first migration because swapping AUTH_USER_MODEL later is a data migration nobody
wants. Who a user *is for access purposes* (organisation, role) lives in permissions/.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def time_zone_choices() -> list[tuple[str, str]]:
    return [(tz, tz) for tz in sorted(zoneinfo.available_timezones()) if "/" in tz or tz == "UTC"]


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        email = self.normalize_email(email).lower()
        user = self.model(email=email, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        # Logins are case-insensitive on the e-mail address.
        return self.get(email__iexact=username)


class DigestFrequency(models.TextChoices):
    NONE = "none", _("No digest")
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")


class User(AbstractUser):
    # No username: the e-mail address is the login (AbstractUser types the field as a str).
    username = None  # type: ignore[assignment]
    email = models.EmailField(_("e-mail address"), unique=True)
    preferred_language = models.CharField(
        _("preferred language"),
        max_length=10,
        choices=settings.LANGUAGES,
        default="en",
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    # Notification preferences, set on the profile page. The digest e-mail (digest/) reads
    # ``digest_frequency`` (off by default: a partner opts in; its one-click link switches it
    # off). ``notify_new_versions`` without a digest: a daily e-mail at the digest's hour with
    # only what changed in (or was withdrawn from) what they downloaded, sent by the digest's
    # job (digest.services); with a digest on, the digest carries it (one e-mail, not two).
    notify_new_versions = models.BooleanField(
        _("e-mail me when a file I downloaded gets a new version"), default=False
    )
    digest_frequency = models.CharField(
        _("digest of new and updated items"),
        max_length=10,
        choices=DigestFrequency.choices,
        default=DigestFrequency.NONE,
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    # AbstractUser types ``objects`` as Django's username-based UserManager; ours is by e-mail.
    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]

    def __str__(self) -> str:
        return self.get_full_name() or self.email


class PasswordResetRequest(models.Model):
    """One request for a password-reset e-mail, kept for the rate limit (accounts.services).

    Stored in the database, not the cache, so the limit holds across app nodes and a down cache
    never breaks the page. The e-mail is kept only as a keyed hash: the table must not become a
    list of addresses people typed (most of them may belong to no account).
    """

    email_digest = models.CharField(max_length=64, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("password reset request")
        verbose_name_plural = _("password reset requests")

    def __str__(self) -> str:
        return f"{self.ip_address or '?'} {self.created_at:%Y-%m-%d %H:%M}"


class LoginGate(models.Model):
    """Rows that serialise concurrent logins of one account (accounts.throttling.login_gate).

    Without it, parallel guesses for one account all pass axes' "locked?" check before any of
    their failures is counted, so c parallel clients got N + c - 1 guesses per cool-off. An account
    maps to one of ``SLOTS`` rows by a hash (a fixed, tiny table that stores no addresses; two
    accounts sharing a slot only wait for each other).
    """

    SLOTS = 1024

    slot = models.PositiveSmallIntegerField(primary_key=True)
    touched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("login gate")
        verbose_name_plural = _("login gates")

    def __str__(self) -> str:
        return f"login gate {self.slot}"


def invitation_expiry() -> datetime:
    return timezone.now() + timedelta(days=settings.PORTAL_INVITATION_DAYS)


class Invitation(models.Model):
    """An invitation to join a partner organisation, sent by one of its partner admins.

    The link's token is stored only as its sha256 (``token_hash``): the table never holds a
    working link. The token is made by the task that sends the e-mail (accounts.tasks), so it
    never sits in the task queue either. Pending: not accepted, not revoked, not expired.
    """

    organization = models.ForeignKey(
        "permissions.PartnerOrganization", on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("e-mail address"))
    role = models.CharField(_("role"), max_length=10, default="member")
    token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    expires_at = models.DateTimeField(default=invitation_expiry)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"{self.email} → {self.organization_id}"

    @property
    def role_label(self) -> str:
        """The role's display name (the roles are permissions.Membership's)."""
        from permissions.models import Membership

        return str(dict(Membership.Role.choices).get(self.role, self.role))

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and not self.is_expired

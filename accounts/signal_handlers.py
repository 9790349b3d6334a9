"""Side effects of account changes."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save


def _profile_time_zone_to_user(sender: type, instance: Any, **kwargs: Any) -> None:
    """An editor who picks a time zone in Wagtail's account settings changes the portal's
    ``User.time_zone`` too (one zone per person: the portal, the admin, e-mails)."""
    from .models import User, time_zone_choices

    zone = instance.current_time_zone
    if not zone or zone not in {choice for choice, _label in time_zone_choices()}:
        return
    User.objects.filter(pk=instance.user_id).exclude(time_zone=zone).update(time_zone=zone)


def register_signal_handlers() -> None:
    from wagtail.users.models import UserProfile

    post_save.connect(
        _profile_time_zone_to_user, sender=UserProfile, dispatch_uid="accounts.profile_time_zone"
    )

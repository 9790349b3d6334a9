"""Accounts: who may list and lift login lockouts."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .principal import UserLike


class LoginLockoutPolicy:
    """Login lockouts (django-axes' failed-attempt rows): who may list them and lift them.

    Superusers, and staff given axes' model permissions in a Wagtail group (the group editor shows
    them: accounts/wagtail_hooks.py): "view" = view or delete access attempts, "lift" = delete.
    """

    PERMISSIONS = {
        "view": ("axes.view_accessattempt", "axes.delete_accessattempt"),
        "lift": ("axes.delete_accessattempt",),
    }

    def user_has_permission(self, user: UserLike | None, action: str) -> bool:
        """May ``user`` do ``action`` ("view" or "lift") on login lockouts?"""
        if action not in self.PERMISSIONS:
            raise ValueError(f"LoginLockoutPolicy answers 'view' or 'lift', not {action!r}")
        if user is None or not user.is_authenticated or not user.is_active:
            return False
        if user.is_superuser:
            return True
        return any(user.has_perm(perm) for perm in self.PERMISSIONS[action])


login_lockout_policy = LoginLockoutPolicy()

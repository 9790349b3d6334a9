"""Keep compiled audiences in step with the tree and the tier/region definitions.

Handlers stay thin: they forget caches, refuse deletes of rows in use, and call the services that
re-derive compiled audiences (a move: the moved subtree; a tier's rank or a region's parent: every
page). That re-derivation runs in the same transaction as the change, never in a task: the
compiled audience IS what listings and search filter by, so a deferred one would show partners
what they may no longer see until a worker ran (docs/decisions.md). The heavy follow-up, the
search index, is a task: search listens to ``signals.audience_recomputed``."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from wagtail.models import Page
from wagtail.signals import post_page_move

from .models import PartnerType, Region, Tier


def _remember_previous(sender: type[Tier | Region], instance: Tier | Region, **kwargs: Any) -> None:
    if instance.pk:
        previous = (
            sender.objects.filter(pk=instance.pk)
            .values("rank" if sender is Tier else "parent_id")
            .first()
        )
        instance._previous_value = next(iter(previous.values())) if previous else None


def _forget_regions(*args: Any, **kwargs: Any) -> None:
    from django.core.cache import cache

    from .policies.principal import REGION_CACHE_KEY

    cache.delete(REGION_CACHE_KEY)


def _recompute_if_changed(
    sender: type[Tier | Region], instance: Tier | Region, created: bool, **kwargs: Any
) -> None:
    from .services import audience_recompute_all
    from .signals import audience_recomputed

    if sender is Region:
        _forget_regions()

    current = instance.rank if sender is Tier else instance.parent_id
    if not created and getattr(instance, "_previous_value", current) != current:
        audience_recompute_all()
        audience_recomputed.send(sender=sender, root_page_id=None)


def _page_moved(sender: type[Model], instance: Page, **kwargs: Any) -> None:
    from .services import audience_recompute_subtree
    from .signals import audience_recomputed

    audience_recompute_subtree(page=instance)
    audience_recomputed.send(sender=sender, root_page_id=instance.pk)


def _refuse_delete_in_use(
    sender: type[Region | PartnerType], instance: Region | PartnerType, **kwargs: Any
) -> None:
    """Last line of defence behind the admin hook: never widen audiences by deleting a row."""
    from django.db.models import ProtectedError

    from .services import audience_dimension_in_use

    count = audience_dimension_in_use(instance=instance)
    if count:
        raise ProtectedError(
            f"{instance} is used in the audience of {count} page(s); remove it there first.",
            set(),
        )


def register_signal_handlers() -> None:
    for model in (Region, PartnerType):
        pre_delete.connect(
            _refuse_delete_in_use, sender=model, dispatch_uid=f"audience-del-{model.__name__}"
        )
    for model in (Tier, Region):
        pre_save.connect(
            _remember_previous, sender=model, dispatch_uid=f"audience-prev-{model.__name__}"
        )
        post_save.connect(
            _recompute_if_changed, sender=model, dispatch_uid=f"audience-re-{model.__name__}"
        )
    post_delete.connect(_forget_regions, sender=Region, dispatch_uid="audience-regions-deleted")
    post_page_move.connect(_page_moved, dispatch_uid="audience-page-moved")

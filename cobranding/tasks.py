"""Background work of cobranding (django-tasks): making a co-brand render."""

from __future__ import annotations

from django_tasks import task


@task()
def cobrand_render_task(render_id: int) -> str:
    """Make pending render ``render_id`` (``services.render_run``); returns its status. A render
    deleted meanwhile (its sources changed) is nothing to do."""
    from .services import render_run

    return render_run(render_id)

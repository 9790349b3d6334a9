from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DigestConfig(AppConfig):
    name = "digest"
    verbose_name = _("Digest e-mail")

    def ready(self) -> None:
        # INTEGRATOR: switch on when the `scheduling` app is merged (periodic jobs run inside
        # every task worker; digest_send_due is idempotent, so two workers never send twice).
        try:
            from scheduling import register  # type: ignore[import-not-found]  # noqa: F401
        except ImportError:
            return
        # register("digest.send_due", timedelta(minutes=15), jobs.digest_send_due_job)

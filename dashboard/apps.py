from importlib import import_module

from django.apps import AppConfig
from django.conf import settings


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Hashwatch"

    def ready(self) -> None:
        # Sign-in signal handlers (lockout counts, audit events) in every process.
        from dashboard import auth  # noqa: F401

        # Extra source kinds from other packages register themselves on import.
        for module in settings.HASHWATCH_PLUGINS:
            import_module(module)

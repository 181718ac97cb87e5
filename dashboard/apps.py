from importlib import import_module

from django.apps import AppConfig
from django.conf import settings


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Hashwatch"

    def ready(self) -> None:
        # Sign-in signal handlers (lockout counts, audit events) in every process.
        from dashboard import (
            auth,  # noqa: F401
            registries,
        )

        # The source tiles close the overview, after every app's sections.
        registries.overview_section_register(registries.OverviewSection(
            "sources", "dashboard/_overview_sources.html", lambda **_: {}, order=1000))

        # Extra source kinds from other packages register themselves on import.
        for module in settings.HASHWATCH_PLUGINS:
            import_module(module)

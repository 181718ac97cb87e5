from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from alerts import hooks

        # Evaluation after every poll, the pages in the top bar, the source page's panel.
        hooks.register()

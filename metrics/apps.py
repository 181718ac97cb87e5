from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = "Prometheus metrics"

    def ready(self) -> None:
        from metrics import receivers

        # Counts every poll as it finishes: the monotonic store behind the failure counter.
        receivers.connect()

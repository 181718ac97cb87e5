from django.apps import AppConfig


class PoolsConfig(AppConfig):
    name = "pools"
    verbose_name = "Mining pools"

    def ready(self) -> None:
        from pools import sources  # noqa: F401  (registers the pool kinds)

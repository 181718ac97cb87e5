from django.apps import AppConfig


class PoolsConfig(AppConfig):
    name = "pools"
    verbose_name = "Mining pools"

    def ready(self) -> None:
        from pools import hooks, sources  # noqa: F401  (sources registers the pool kinds)

        # The overview's pool sections, the source page's links, the top bar's pages.
        hooks.register()

from django.apps import AppConfig


class ExchangesConfig(AppConfig):
    name = "exchanges"
    verbose_name = "Exchanges"

    def ready(self) -> None:
        from exchanges import hooks, sources  # noqa: F401  (sources registers the exchange kinds)

        # The overview's fiat line, the stream panel and check, links and top bar pages.
        hooks.register()

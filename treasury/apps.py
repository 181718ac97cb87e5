from django.apps import AppConfig


class TreasuryConfig(AppConfig):
    name = "treasury"
    verbose_name = "Treasury"

    def ready(self) -> None:
        from treasury import hooks

        # The Treasury page in the top bar, profitability on Earnings, the overview and the CSV.
        hooks.register()

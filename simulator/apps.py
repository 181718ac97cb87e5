from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    """Fake upstream APIs written from the seed documents, and demo mode.

    Nothing in the product imports this app; settings add it only when the package is
    importable, for its `simulator` and `demo` management commands.
    """

    name = "simulator"
    verbose_name = "Upstream simulator"

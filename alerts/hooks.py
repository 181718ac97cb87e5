"""What the alerts app contributes to the core, registered from AlertsConfig.ready()."""


def register() -> None:
    pass

"""The signals the alerts app listens to."""


def connect() -> None:
    pass

"""The alerts app's entries in the core's registries: navigation, overview, source panels."""


def register() -> None:
    pass

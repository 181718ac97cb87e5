"""What the alerts app contributes to the core, registered from AlertsConfig.ready()."""

from alerts import presentation, receivers


def register() -> None:
    # Evaluation after every poll, rules of a deleted source disabled with a note.
    receivers.connect()
    # The pages in the top bar, the overview's firing alerts, the source and worker panels.
    presentation.register()

#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    from django.core.management import execute_from_command_line

    from dashboard.config import ConfigError

    try:
        execute_from_command_line(sys.argv)
    except ConfigError as error:
        # A configuration mistake is the operator's to fix: the message, not a traceback.
        sys.exit(str(error))


if __name__ == "__main__":
    main()

"""The product runs without the simulator. (That neither imports the other is an import
contract in pyproject.toml, checked by tests/test_layering.py and `make lint`.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def test_the_simulator_is_an_app_when_it_is_importable() -> None:
    assert "simulator" in settings.INSTALLED_APPS


def test_the_product_starts_without_the_simulator() -> None:
    script = (
        "import sys\n"
        "sys.modules['simulator'] = None  # as if the package were not installed\n"
        "import django\n"
        "from django.conf import settings\n"
        "from django.core.management import call_command, get_commands\n"
        "django.setup()\n"
        "assert 'simulator' not in settings.INSTALLED_APPS, settings.INSTALLED_APPS\n"
        "assert not {'demo', 'simulator'} & set(get_commands())\n"
        "call_command('check')\n"
        "import dashboard.urls, dashboard.tasks\n"
        "print('started')\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dashboard.settings",
           "DATABASE_URL": "sqlite:///:memory:", "CELERY_BROKER_URL": "memory://"}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("started")

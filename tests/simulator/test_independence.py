"""The simulator stands apart: it speaks the seed documents, not the product's clients, and the
product runs without it."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(package: str) -> dict[str, set[str]]:
    """Every module each source file of `package` imports, by file."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def top_level(names: set[str]) -> set[str]:
    return {name.split(".")[0] for name in names}


def test_the_simulator_imports_nothing_from_the_clients_it_fakes() -> None:
    # A misreading of the documents shared by a client and its fake would pass every test.
    offending = {path: sorted(names) for path, names in imported_modules("simulator").items()
                 if top_level(names) & {"pools", "exchanges"}}
    assert offending == {}


def test_nothing_in_the_product_imports_the_simulator() -> None:
    offending = {path: sorted(names)
                 for package in ("dashboard", "pools", "exchanges")
                 for path, names in imported_modules(package).items()
                 if "simulator" in top_level(names)}
    assert offending == {}


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

"""The core imports no feature app: they register what they add (dashboard.registries)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import dashboard

FEATURE_APPS = ("pools", "exchanges", "alerts")
CORE = Path(dashboard.__file__).parent
# Fake upstreams and demo mode are not the product's core and leave the package on their own.
NOT_CORE = ("simulator", "demo.py", "management/commands/demo.py",
            "management/commands/simulator.py")


def imported(tree: ast.AST) -> list[tuple[int, str]]:
    """Every module an import statement names, at any depth (lazy imports included)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.lineno, node.module))
    return found


def test_the_core_imports_no_feature_app() -> None:
    offences = []
    for path in sorted(CORE.rglob("*.py")):
        relative = path.relative_to(CORE).as_posix()
        if relative.startswith(NOT_CORE):
            continue
        for line, module in imported(ast.parse(path.read_text(), filename=str(path))):
            if module.split(".")[0] in FEATURE_APPS:
                offences.append(f"dashboard/{relative}:{line} imports {module}")
    assert offences == []


def test_the_core_templates_name_no_feature_app() -> None:
    templates = CORE.parent / "templates"
    offences = [
        f"{path.relative_to(templates)} mentions {app}"
        for path in [templates / "base.html", *sorted((templates / "dashboard").glob("*.html"))]
        for app in FEATURE_APPS
        if f"{app}/" in path.read_text() or re.search(rf"{{% load [^%]*\b{app}\b", path.read_text())
    ]
    assert offences == []

"""The core's templates name no feature app: the apps register what they add
(dashboard.registries). The Python side is an import contract, see tests/test_layering.py."""

from __future__ import annotations

import re
from pathlib import Path

import dashboard

FEATURE_APPS = ("pools", "exchanges", "alerts", "treasury", "metrics")
CORE = Path(dashboard.__file__).parent


def test_the_core_templates_name_no_feature_app() -> None:
    templates = CORE.parent / "templates"
    offences = [
        f"{path.relative_to(templates)} mentions {app}"
        for path in [templates / "base.html", *sorted((templates / "dashboard").glob("*.html"))]
        for app in FEATURE_APPS
        if f"{app}/" in path.read_text() or re.search(rf"{{% load [^%]*\b{app}\b", path.read_text())
    ]
    assert offences == []

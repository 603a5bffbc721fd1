"""Apps talk through public modules: `events` never imports `progress`, and `progress` never reaches
into the events HTTP doors (`events.api.doors`); cross-app code such as the demo lives in `the_eye`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(app: str) -> set[tuple[str, str]]:
    found = set()
    for path in (ROOT / app).rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                found |= {(str(path.relative_to(ROOT)), f"{node.module}.{a.name}") for a in node.names}
            elif isinstance(node, ast.Import):
                found |= {(str(path.relative_to(ROOT)), a.name) for a in node.names}
    return found


@pytest.mark.parametrize(
    ("app", "forbidden"),
    [("events", "progress"), ("events", "dashboard"), ("progress", "events.api.doors"), ("progress", "dashboard")],
)
def test_an_app_does_not_import_what_it_must_not_know(app, forbidden):
    wrong = sorted((where, name) for where, name in imported_modules(app) if (name + ".").startswith(forbidden + "."))
    assert wrong == []

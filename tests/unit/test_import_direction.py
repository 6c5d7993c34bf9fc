"""The domain packages never depend on the UI: ``panels/`` and ``sharing/`` import neither
Reflex nor ``portal``, so services can be used (and tested) without a web framework."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_PACKAGES = ("sharing", "panels")
FORBIDDEN = {"reflex", "portal"}


def _domain_files() -> list[Path]:
    return sorted(path for package in DOMAIN_PACKAGES for path in (ROOT / package).rglob("*.py"))


def _imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.append(node.args[0].value)
    return names


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def test_the_domain_packages_have_modules_to_check() -> None:
    names = {_module_name(p) for p in _domain_files()}
    assert {"sharing.accounts", "sharing.audit", "sharing.directory", "panels.panels", "panels.demo"} <= names


def test_the_import_scanner_sees_every_kind_of_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import reflex as rx\n"
        "from portal.pages import home\n"
        "def later():\n"
        "    import portal.services\n"
        "    importlib.import_module('reflex.state')\n"
        "from . import sibling\n",
        encoding="utf-8",
    )
    assert _imported_modules(sample) == ["reflex", "portal.pages", "portal.services", "reflex.state"]


@pytest.mark.parametrize("path", _domain_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_domain_module_imports_the_ui(path: Path) -> None:
    offending = [name for name in _imported_modules(path) if name.split(".")[0] in FORBIDDEN]
    assert offending == [], f"{path.relative_to(ROOT)} imports {offending}"


def test_importing_every_domain_module_loads_no_ui_code() -> None:
    modules = sorted(_module_name(p) for p in _domain_files())
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('reflex', 'portal'))\n"
        "print(json.dumps({'loaded': loaded, 'domain': sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('sharing', 'panels'))}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["loaded"] == []
    assert set(modules) <= set(report["domain"])

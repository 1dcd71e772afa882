"""The layering rule, checked on the source: imports point one way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "crossdock"

# package -> the crossdock packages it may import
ALLOWED = {
    "schemas": {"schemas"},
    "adapters": {"schemas", "adapters"},
    "mappings": {"schemas", "mappings"},
    "gateway": {"schemas", "adapters", "mappings", "gateway"},
}
SERVICE_LIBS = {"litestar", "dramatiq", "sqlalchemy", "alembic"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_it_may(package: str) -> None:
    bad = []
    for path in _modules(package):
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "crossdock" and len(parts) > 1 and parts[1] not in ALLOWED[package]:
                bad.append(f"{path.relative_to(SRC)} imports {name}")
            if package != "gateway" and parts[0] in SERVICE_LIBS:
                bad.append(f"{path.relative_to(SRC)} imports {name}")
    assert bad == []


def test_only_x12_codec_touches_pyx12_and_only_xml_codec_touches_lxml() -> None:
    bad = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).as_posix()
        for name in _imports(path):
            root = name.split(".")[0]
            if root == "pyx12" and not rel.startswith("adapters/x12/"):
                bad.append(f"{rel} imports {name}")
            if root == "lxml" and not rel.startswith("adapters/xml/"):
                bad.append(f"{rel} imports {name}")
    assert bad == []

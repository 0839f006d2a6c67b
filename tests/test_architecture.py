"""The layering of docs/architecture.md, checked on the source: who may import whom."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "traceability"
AUDIENCES = {"portal", "office"}
DOMAINS = {"registry", "stamps", "ledger", "verification", "printing", "accounts", "audit"}
# Operations on a whole instance (backup, restore): above the domains, beside the web edge, below the audiences.
OPERATIONS = {"operations"}
# Modules of a domain package that belong to the web or command-line edge and may use Flask: pages, commands,
# forms, role checks, the public page's wording (verification/texts.py) and the app's print-job runner.
EDGE_MODULES = {"views", "commands", "forms", "guards", "texts", "jobs"}
# What each domain may import besides the shared modules (docs/architecture.md, "Who may import whom").
ALLOWED = {
    "audit": set(),
    "registry": {"audit"},
    "ledger": set(),
    "stamps": {"registry", "audit", "ledger"},
    "verification": {"stamps", "registry", "audit", "ledger"},
    "printing": {"stamps", "registry", "audit"},
    "accounts": {"registry", "audit"},
}
# The ledger's own edge (its API and commands) names the keys that sign it and checks entries against their
# batches; its models and services import no other domain, so stamps may append to it without a cycle.
EDGE_ALLOWED = {"ledger": {"stamps"}}
# Shared web-edge modules: domains' edge modules may use them, services may not.
WEB_EDGE = {"forms", "labels", "web", "routes", "cli"}


def imported_modules(path: Path) -> set[str]:
    """Return every absolute module name the file imports, at any level (imports inside functions too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "translations" not in p.parts)


def package_of(path: Path) -> str | None:
    relative = path.relative_to(PACKAGE).parts
    return relative[0] if len(relative) > 1 else None


def top_package(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "traceability" else None


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_follow_the_layering(path: Path) -> None:
    own = package_of(path)
    targets = {top_package(name) for name in imported_modules(path)} - {None, own}
    if own in AUDIENCES:
        assert not (targets & (AUDIENCES - {own})), f"{path.name}: the portal and the office never import each other"
        return
    if own in OPERATIONS:
        assert not (targets & AUDIENCES), f"{own}/{path.name}: operations never import an audience package"
        if path.stem not in EDGE_MODULES:
            assert not (targets & WEB_EDGE), f"{own}/{path.name}: only its commands use the web edge"
        return
    if own in DOMAINS:
        assert not (targets & AUDIENCES), f"{path.name}: a domain never imports an audience package"
        # Pages and commands check who is asking, so edge modules may use accounts' guards.
        edge = path.stem in EDGE_MODULES
        allowed = ALLOWED[own] | ({"accounts"} | EDGE_ALLOWED.get(own, set()) if edge else set())
        forbidden = (targets & DOMAINS) - allowed
        assert not forbidden, f"{own}/{path.name} imports {sorted(forbidden)}; see docs/architecture.md"
        if path.stem not in EDGE_MODULES:
            assert not (targets & WEB_EDGE), f"{own}/{path.name}: a service does not use the web edge"


@pytest.mark.parametrize(
    "path",
    [p for p in modules() if package_of(p) in DOMAINS | OPERATIONS and p.stem not in EDGE_MODULES],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_services_never_import_flask(path: Path) -> None:
    flask = {name for name in imported_modules(path) if name.split(".")[0] in {"flask", "flask_babel", "flask_wtf"}}
    assert not flask, f"{path.relative_to(PACKAGE)} imports {sorted(flask)}: services take values, not requests"

"""docs/architecture.md stays true: every path it names exists, and the import rules hold.

The rules are read from the source with ``ast`` (nothing is imported), so a rule broken in a
module no test imports is still caught."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pipeline", "webapp", "feeds")
WEB_ONLY = ("flask", "flask_login", "flask_wtf", "werkzeug", "celery", "kombu", "feedgen")


def modules() -> dict[str, Path]:
    """Dotted name -> file, for every module of the three packages (migrations excluded)."""
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = modules()


def _absolute(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".") if MODULES[module].name == "__init__.py" else module.split(".")[:-1]
    base = package[:len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def imports(module: str, *, top_level_only: bool) -> list[tuple[str, int]]:
    """(imported dotted name, line) for each import in ``module``; ``from x import y`` counts as
    an import of ``x.y`` when that is a module of ours, else of ``x``."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append((sub if sub in MODULES else base, node.lineno))
    return found


def nested_imports(module: str) -> list[tuple[str, int]]:
    """Imports that are not at module level (inside a function, method or class)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    top = {(n.lineno) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))}
    return [(name, line) for name, line in imports(module, top_level_only=False) if line not in top]


def _ours(name: str) -> str | None:
    """The module of ours an imported name means (a package's __init__ for ``pipeline.x.y``
    when only ``pipeline.x`` is a module), else None."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def test_the_modules_the_architecture_names_exist():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:pipeline|webapp|feeds|tests|docs)/[\w/.]*)`", text))
    assert len(named) > 30, "the architecture document should name the modules it describes"
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("pipeline")))
def test_the_core_imports_no_face_and_no_web_library(module):
    bad = [(name, line) for name, line in imports(module, top_level_only=False)
           if name.split(".")[0] in ("webapp", "feeds", *WEB_ONLY)]
    assert not bad, f"{module} imports {bad}: the core knows nothing of the web, Celery or feeds"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("feeds")))
def test_feeds_import_no_project_code(module):
    bad = [(name, line) for name, line in imports(module, top_level_only=False)
           if name.split(".")[0] in ("webapp", "pipeline")]
    assert not bad, f"{module} imports {bad}: feeds take dataclasses in and give bytes out"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith(("pipeline", "feeds"))))
def test_no_function_level_imports_of_project_modules_in_the_core(module):
    hidden = [(name, line) for name, line in nested_imports(module) if _ours(name)]
    assert not hidden, f"{module} imports project modules inside functions {hidden}; import them at the top"


def import_graph() -> dict[str, set[str]]:
    graph = {}
    for module in MODULES:
        targets = {_ours(name) for name, _line in imports(module, top_level_only=True)}
        graph[module] = {t for t in targets if t and t != module}
        # Importing a.b.c runs a/__init__ and a/b/__init__ first.
        for target in list(graph[module]):
            parts = target.split(".")
            graph[module] |= {".".join(parts[:i]) for i in range(1, len(parts))
                              if ".".join(parts[:i]) in MODULES and ".".join(parts[:i]) != module
                              and not module.startswith(".".join(parts[:i]) + ".")}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_there_is_no_import_cycle():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("package", sorted(m for m in MODULES if m.startswith("pipeline.")
                                           and MODULES[m].name == "__init__.py"))
def test_each_core_package_says_what_lives_there_and_what_it_may_import(package):
    doc = ast.get_docstring(ast.parse(MODULES[package].read_text(encoding="utf-8"))) or ""
    assert "May import" in doc, f"{package}/__init__.py should say what it may import"


def test_the_flow_is_declared_once_and_names_every_job_kind():
    from pipeline.enums import JobKind
    from pipeline.flow import HANDLERS

    assert set(HANDLERS) == {kind.value for kind in JobKind}
    dispatching = [m for m in MODULES if m.startswith("pipeline") and m != "pipeline.flow"
                   and "HANDLERS[" in MODULES[m].read_text(encoding="utf-8")]
    assert not dispatching, f"only pipeline.flow maps job kinds to handlers: {dispatching}"

"""The layout stays true: the import graph of the packages (read with ast, nothing imported) has no cycle,
dependencies point web → reports → optimizer → models only, nothing imports a private name from another module
(tests included), and ``optimizer/`` holds stage packages with only the pipeline and entry points on top."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("models", "optimizer", "reports", "web")
FORBIDDEN = {"models": ("optimizer", "reports", "web"), "optimizer": ("reports", "web"), "reports": ("web",)}
"""The page (``web``) sits on top: nothing below imports it (``wfplan serve`` reaches it through an entry point)."""
TOP_OF_OPTIMIZER = {"__init__.py", "pipeline.py", "api.py"}
"""The only modules directly in optimizer/: the pipeline and the Python API; everything else is in a stage."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> list[tuple[str, str | None]]:
    """(module, imported name or None) for every import statement of ``path``, relative ones resolved."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            found += [(base, alias.name) for alias in node.names]
    return found


def project_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for module, imported in imports_of(path):
            for candidate in (f"{module}.{imported}" if imported else None, module):
                while candidate and candidate not in modules:
                    candidate = candidate.rpartition(".")[0]
                if candidate and candidate != name:
                    graph[name].add(candidate)
                    break
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_import_graph_has_no_cycle():
    graph = project_graph()
    assert len(graph) > 40  # the packages were found
    assert cycles(graph) == []


def test_dependencies_point_one_way():
    wrong = [(a, b) for a, targets in project_graph().items() for b in targets
             if b.split(".")[0] in FORBIDDEN.get(a.split(".")[0], ())]
    assert wrong == []


def test_no_private_name_is_imported_from_another_module():
    files = [p for pkg in (*PACKAGES, "tests", "benchmarks") for p in (ROOT / pkg).rglob("*.py")]
    private = [f"{p.relative_to(ROOT)}: from {module} import {name}"
               for p in files for module, name in imports_of(p)
               if name and name.startswith("_") and not name.startswith("__")]
    assert private == []


def module_aliases(path: Path, modules: set[str]) -> set[str]:
    """Names under which ``path`` binds a project module (``import a.b as m``, ``from a import b``)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.asname or alias.name.split(".")[0] for alias in node.names
                      if alias.name.split(".")[0] in (*PACKAGES, "tests", "benchmarks")}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {alias.asname or alias.name for alias in node.names if f"{node.module}.{alias.name}" in modules}
    return names


def test_no_private_name_is_reached_through_another_module():
    """``module._name`` is as private as ``from module import _name``."""
    files = [p for pkg in (*PACKAGES, "tests", "benchmarks") for p in (ROOT / pkg).rglob("*.py")]
    modules = {module_name(p) for p in files}
    reached = []
    for path in files:
        aliases = module_aliases(path, modules)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                    and isinstance(node.value, ast.Name) and node.value.id in aliases):
                reached.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value.id}.{node.attr}")
    assert reached == []


def test_optimizer_is_split_into_stage_packages():
    top = {p.name for p in (ROOT / "optimizer").glob("*.py")}
    stages = {p.parent.name for p in (ROOT / "optimizer").glob("*/__init__.py")}
    assert top <= TOP_OF_OPTIMIZER
    assert stages == {"model", "solvers", "plan", "verify", "whatif", "simulate", "registry", "cli", "distributed"}


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]

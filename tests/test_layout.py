"""The package layout: stages in flow order, no import cycles, no module shadowing the standard library."""

import ast
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def _module_graph() -> dict[str, set[str]]:
    """specser module -> the specser modules it imports at module level (what an import cycle needs)."""
    modules = {}
    for path in (SRC / "specser").rglob("*.py"):
        name = ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = ast.parse(path.read_text()).body
    graph = {}
    for name, body in modules.items():
        deps = set()
        for node in body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("specser"):
                subs = {f"{node.module}.{a.name}" for a in node.names} & set(modules)
                deps |= subs or {node.module}
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.startswith("specser")}
        graph[name] = {d for d in deps if d in modules and d != name}
    return graph


def test_no_import_cycles():
    graph, done, cycles = _module_graph(), set(), []

    def visit(module: str, path: list[str]) -> None:
        for dep in graph[module]:
            if dep in path:
                cycles.append(path[path.index(dep):] + [dep])
            elif dep not in done:
                visit(dep, path + [dep])
        done.add(module)

    for module in graph:
        if module not in done:
            visit(module, [module])
    assert not cycles, cycles[:3]


def test_no_module_is_named_after_a_standard_library_module():
    names = {p.stem for p in (SRC / "specser").rglob("*.py")} | {p.name for p in (SRC / "specser").iterdir() if p.is_dir()}
    assert not names & set(sys.stdlib_module_names)


def test_the_inference_stages_import_nothing_from_training():
    graph = _module_graph()
    for module, deps in graph.items():
        if module.startswith(("specser.inference", "specser.service", "specser.export")):
            assert not {d for d in deps if d.startswith(("specser.training", "specser.runs"))}, module

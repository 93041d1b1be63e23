"""The shape issue 15 asked for, kept: no function longer than 60 lines outside the migrations, and no
import cycle between the hub's modules (imports at module level; a deferred import inside a function
is how a cycle would be hidden, so those are counted too)."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("services", "gateway", "contracts")
MAX_LINES = 60


def sources(*folders: str) -> list[Path]:
    return sorted(p for f in folders for p in (ROOT / f).rglob("*.py") if "migrations" not in p.parts)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def long_functions(text: str, where: str = "") -> list[str]:
    return [f"{where}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for node in ast.walk(ast.parse(text))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_LINES]


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """The hub modules ``path`` imports, wherever in the file (relative imports resolved)."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parents = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parents + ([base] if base else []))
            found |= {f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names}
    return found & known


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        while work:
            node, successors = work[-1]
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_no_function_is_longer_than_60_lines_outside_the_migrations():
    too_long = [f for path in sources(*PACKAGES, "scripts")
                for f in long_functions(path.read_text(), str(path.relative_to(ROOT)))]
    assert not too_long, "\n".join(too_long)


def test_the_checks_see_a_long_function_and_a_cycle():
    def function(lines: int) -> str:  # a def line and lines - 1 statements
        return "def f():\n" + "\n".join(f"    x{i} = {i}" for i in range(lines - 1)) + "\n"
    assert long_functions(function(MAX_LINES)) == []
    assert long_functions(function(MAX_LINES + 1)) == [f":1 f ({MAX_LINES + 1} lines)"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_the_hubs_modules():
    paths = sources(*PACKAGES)
    known = {module_name(p) for p in paths}
    graph = {module_name(p): imported_modules(p, known) - {module_name(p)} for p in paths}
    assert not cycles(graph), cycles(graph)

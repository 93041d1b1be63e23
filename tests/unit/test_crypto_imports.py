"""The crypto room keeps its door: it imports from the hub only the kernel and itself, and no framework."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORKS = ("sqlalchemy", "fastapi", "faststream", "aiokafka", "asyncpg", "pydantic")


def _imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_services_crypto_imports_only_the_kernel_and_no_framework():
    modules = sorted((ROOT / "services/crypto").glob("*.py"))
    assert len(modules) >= 7
    for path in modules:
        names = _imported(path)
        hub = {n for n in names if n.startswith(("services", "gateway", "contracts"))}
        assert all(n.startswith(("services.crypto", "services.kernel")) for n in hub), f"{path.name}: {hub}"
        assert not {n for n in names if n.startswith(FRAMEWORKS)}, path.name

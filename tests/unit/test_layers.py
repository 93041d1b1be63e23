"""The rooms keep their doors: the kernel imports no other part of the hub, the infrastructure no
context, a domain module no framework; the gate reads consents through its port, never their tables."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTEXTS = ("admin", "audit", "checklists", "consent", "delivery", "directory", "gate", "notifications")


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:  # a submodule by its own name
            for a in node.names:
                submodule = ROOT / (node.module.replace(".", "/") + f"/{a.name}.py")
                names.add(f"{node.module}.{a.name}" if submodule.exists() else node.module)
    return names


def modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_the_kernel_imports_nothing_else_of_the_hub():
    for path in modules("services/kernel"):
        outside = {n for n in imports(path) if n.startswith(("services.", "gateway")) and
                   not n.startswith("services.kernel")}
        assert not outside, f"{path.name}: {outside}"


def test_the_infrastructure_imports_no_context():
    for path in modules("services/infrastructure"):
        found = {n for n in imports(path) if n.startswith(tuple(f"services.{c}" for c in CONTEXTS))}
        assert not found, f"{path.name}: {found}"


def test_domain_modules_import_no_framework():
    frameworks = ("sqlalchemy", "fastapi", "faststream", "aiokafka", "asyncpg")
    for path in (ROOT / "services/consent/domain.py", ROOT / "services/gate/minimise.py",
                 ROOT / "services/cases/domain.py",
                 ROOT / "services/checklists/precheck.py", ROOT / "services/audit/merkle.py",
                 ROOT / "services/notifications/mail.py"):
        assert not {n for n in imports(path) if n.startswith(frameworks)}, path.name


def test_the_gate_reads_consents_through_its_port_only():
    for path in modules("services/gate"):
        found = {n for n in imports(path) if n.startswith("services.consent")} - {
            "services.consent.domain", "services.consent.explain"}  # the pure rule and its German reasons
        assert not found, f"{path.name}: {found}"

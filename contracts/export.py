"""Export the JSON Schema of every registered contract into contracts/schemas/.

    python -m contracts.export            # (re)write the schema files
    python -m contracts.export --check    # exit 1 and list files that differ from the models

Schema mode: "validation". A committed schema is the acceptance contract: it says which
messages a consumer's ``read_message`` takes, and the compatibility rules (newly required
field, removed enum value, ...) are statements about acceptance. The validation schema
depends only on field types and constraints. The serialization schema also depends on
presentation details that can change without any change on the wire contract: a
``field_serializer`` without a return annotation turns a field into "any", a
``computed_field`` appears as an extra read-only property, and whether defaulted fields
count as required depends on ``json_schema_serialization_defaults_required``. Today both
modes give identical schemas for every contract (tests/contract checks this).

The text is deterministic: sorted keys, indent 2, UTF-8 without escapes, one trailing newline.
"""
import argparse
import json
import sys
from pathlib import Path

from contracts.registry import CONTRACTS, ContractInfo

SCHEMA_MODE = "validation"
SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"


def schema_of(info: ContractInfo) -> dict:
    return info.model.model_json_schema(mode=SCHEMA_MODE)


def render(schema: dict) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def export_schemas() -> dict[str, str]:
    """Schema file name -> file text, for every registered contract."""
    return {info.schema_name: render(schema_of(info)) for info in CONTRACTS}


def _differences(schema_dir: Path, expected: dict[str, str]) -> list[str]:
    problems = []
    for name, text in expected.items():
        path = schema_dir / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif path.read_bytes() != text.encode("utf-8"):
            problems.append(f"{name}: differs from the model")
    for path in sorted(schema_dir.glob("*.json")):
        if path.name not in expected:
            problems.append(f"{path.name}: not in contracts/registry.py (delete it if the contract is retired)")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contracts.export", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if a file differs")
    parser.add_argument("--dir", type=Path, default=SCHEMA_DIR, help="schema directory (default: %(default)s)")
    args = parser.parse_args(argv)
    expected = export_schemas()

    if args.check:
        problems = _differences(args.dir, expected)
        for line in problems:
            print(line)
        if problems:
            print("run `python -m contracts.export` and commit the result", file=sys.stderr)
        return 1 if problems else 0

    args.dir.mkdir(parents=True, exist_ok=True)
    for name, text in expected.items():
        path = args.dir / name
        if not path.is_file() or path.read_bytes() != text.encode("utf-8"):
            path.write_bytes(text.encode("utf-8"))
            print(f"wrote {name}")
    for line in _differences(args.dir, expected):  # only stray files can remain
        print(line, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The committed JSON Schemas in contracts/schemas/ are exactly what the models export."""
import pytest

from contracts import export
from contracts.registry import CONTRACTS, SCHEMA_URN, by_model, by_type, dataschema_uri

FIX = "run `python -m contracts.export` and commit contracts/schemas/"


def test_exported_schemas_equal_committed_files():
    differing = [
        name
        for name, text in export.export_schemas().items()
        if not (export.SCHEMA_DIR / name).is_file() or (export.SCHEMA_DIR / name).read_bytes() != text.encode("utf-8")
    ]
    assert not differing, f"schemas out of date: {differing}; {FIX}"


@pytest.mark.parametrize("info", CONTRACTS, ids=lambda info: info.schema_name)
def test_every_contract_has_a_committed_schema(info):
    assert (export.SCHEMA_DIR / info.schema_name).is_file(), f"{info.schema_name} missing; {FIX}"


def test_no_stray_files_in_schema_dir():
    expected = {info.schema_name for info in CONTRACTS}
    stray = sorted(p.name for p in export.SCHEMA_DIR.iterdir() if p.name not in expected)
    assert not stray, f"files not produced by contracts/registry.py: {stray}"


def test_check_mode_reports_differences(tmp_path, capsys):
    assert export.main(["--dir", str(tmp_path)]) == 0
    assert export.main(["--check", "--dir", str(tmp_path)]) == 0
    (tmp_path / "referral.v1.json").write_text("{}\n")
    (tmp_path / "old.v0.json").write_text("{}\n")
    (tmp_path / "transfer-receipt.v1.json").unlink()
    capsys.readouterr()
    assert export.main(["--check", "--dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "referral.v1.json" in out and "old.v0.json" in out and "transfer-receipt.v1.json" in out
    assert "consent-version.v1.json" not in out


def test_export_text_is_deterministic_and_newline_terminated():
    first, second = export.export_schemas(), export.export_schemas()
    assert first == second
    assert all(text.endswith("}\n") and not text.endswith("\n\n") for text in first.values())


@pytest.mark.parametrize("info", CONTRACTS, ids=lambda info: info.schema_name)
def test_serialization_and_validation_schemas_agree(info):
    # What a producer emits must be what a consumer accepts; if these ever diverge, decide
    # consciously which one the committed schema describes (see contracts/export.py).
    assert info.model.model_json_schema(mode="serialization") == info.model.model_json_schema(mode="validation")


def test_registry_lookups():
    for info in CONTRACTS:
        assert by_type(info.ce_type) is info
        assert by_model(info.model) is info
        assert dataschema_uri(info) == SCHEMA_URN + info.schema_name
    assert dataschema_uri(by_type("de.nrw.kim.referral.v1")) == "urn:kimhub:schema:referral.v1.json"
    with pytest.raises(KeyError):
        by_type("de.nrw.kim.unknown.v1")
    with pytest.raises(KeyError):
        by_model(dict)


def test_registry_is_unique():
    assert len({i.ce_type for i in CONTRACTS}) == len({i.model for i in CONTRACTS}) == len(CONTRACTS)
    assert len({i.schema_name for i in CONTRACTS}) == len(CONTRACTS)

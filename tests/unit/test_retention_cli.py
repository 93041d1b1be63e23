"""``kimhub retention cases --now``: a time with its zone, or a German message and exit 2."""
import pytest

from services.cli import main


@pytest.mark.parametrize("value", ["2027-01-01T00:00:00", "morgen"])
def test_now_needs_a_time_with_zone(value, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["retention", "cases", "--now", value])
    assert exit_.value.code == 2
    assert "Zeitpunkt nach ISO 8601 mit Zeitzone" in capsys.readouterr().err

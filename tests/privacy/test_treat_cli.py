"""`datenschatz privacy treat SLUG --file spec.yaml`, and the 100 m grid generalization."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from datenschatz.catalog.datasets import get_dataset, get_version
from datenschatz.cli import app
from datenschatz.errors import CheckFailed
from datenschatz.hub import Hub
from datenschatz.privacy.treatments import apply_treatments, parse_spec
from tests.helpers import add_version

runner = CliRunner()

CSV = "kunde;plz;kwh\n" + "".join(
    f"K{i};{44623 if i % 2 else 44649};{1000 + i * 10}\n" for i in range(30)
)
SPEC = """
treatments:
  - generalize: {column: plz, to: district}
  - aggregate: {group_by: [district], contributor: kunde, sum: [kwh]}
"""


def test_privacy_treat_on_the_command_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATENSCHATZ_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATENSCHATZ_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    (tmp_path / "kunden.csv").write_text(CSV, encoding="utf-8")
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    assert (
        runner.invoke(app, ["ingest", str(tmp_path / "kunden.csv"), "-d", "kunden"]).exit_code == 0
    )

    result = runner.invoke(
        app, ["privacy", "treat", "kunden", "--file", str(tmp_path / "spec.yaml"), "--json"]
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    body = json.loads(result.stdout)
    assert body["version"] == 2
    assert body["treatment"]["smallest_group"] == 15
    assert body["treatment"]["suppressed"] == {"primary": 0, "secondary": 0}

    (tmp_path / "bad.yaml").write_text("treatments:\n  - drop: [nope]\n", encoding="utf-8")
    bad = runner.invoke(
        app, ["privacy", "treat", "kunden", "--file", str(tmp_path / "bad.yaml"), "--json"]
    )
    assert bad.exit_code == 1
    error = json.loads(bad.stdout)["error"]
    assert error["code"] == "invalid_input"
    assert error["details"]["column"] == "nope"


def test_points_generalize_to_100_m_grid_cells(sqlite_hub: Hub) -> None:
    hub = sqlite_hub
    # Two points about 10 m apart, one about 1 km away.
    add_version(
        hub,
        "punkte",
        "SELECT * FROM (VALUES (1, ST_Point(7.21500, 51.53800)), (2, ST_Point(7.21505, 51.53805)),"
        " (3, ST_Point(7.23000, 51.54500))) t(id, geometry)",
    )
    step = {"generalize": {"column": "geometry", "to": "grid"}}
    with pytest.raises(CheckFailed, match="not 5-anonymous on grid_cell"):
        apply_treatments(
            hub, "punkte", raw_version=None, spec=parse_spec({"treatments": [step]}), actor="t"
        )
    # Points of public things (trees, say) may be published per cell: the steward says so.
    spec = parse_spec({"treatments": [step], "roles": {"grid_cell": "public_key"}})
    info = apply_treatments(hub, "punkte", raw_version=None, spec=spec, actor="test")
    assert info.geometry_column is None
    with hub.session() as session:
        path = hub.store.path(get_version(session, get_dataset(session, "punkte"), 2).path)
    con = hub.duckdb(spatial=False)
    cells = dict(con.execute(f"SELECT * FROM read_parquet('{path}')").fetchall())
    con.close()
    assert all(re.fullmatch(r"CRS3035RES100mN\d{5}00E\d{5}00", c) for c in cells.values())
    assert cells[1] == cells[2]
    assert cells[1] != cells[3]

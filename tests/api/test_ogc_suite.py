"""The ``ogctests`` suite (OGC API - Features Part 1 Core, from PyPI) against a real server.

ogctests pins versions that clash with this project's (httpx < 0.28, pytest < 9, pyarrow < 18)
and pulls in geopandas, so it lives in a venv of its own: ``make ogctests`` builds it and runs
this test with ``DATENSCHATZ_OGCTESTS_PYTHON`` pointing at its interpreter. Without that
variable the test is skipped. The suite talks only to the server on 127.0.0.1.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from datenschatz.hub import Hub
from tests.api.test_ogc import build, ogc_app
from tests.api.test_ogc_owslib import serving
from tests.conftest import make_hub

PYTHON_VARIABLE = "DATENSCHATZ_OGCTESTS_PYTHON"
_RUN = """
import sys
from ogctests.main import run_ogctests
sys.exit(run_ogctests("features/core", sys.argv[1], sys.argv[2:]))
"""


@pytest.fixture
def suite_python() -> str:
    python = os.environ.get(PYTHON_VARIABLE)
    if not python:
        pytest.skip(f"{PYTHON_VARIABLE} is not set (run `make ogctests`)")
    return str(Path(python).absolute())


@pytest.fixture
def suite_hub(tmp_path: Path) -> Hub:
    return build(make_hub(tmp_path / "data", f"sqlite:///{tmp_path / 'datenschatz.sqlite3'}"))


def test_ogctests_core_suite_passes(suite_python: str, suite_hub: Hub, tmp_path: Path) -> None:
    # An empty ini file keeps the suite's pytest away from this project's configuration.
    ini = tmp_path / "pytest.ini"
    ini.write_text("[pytest]\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    with serving(ogc_app(suite_hub)) as url:
        result = subprocess.run(
            [
                suite_python,
                "-c",
                _RUN,
                url + "/ogc",
                "-c",
                str(ini),
                "--rootdir",
                str(tmp_path),
                "-p",
                "no:cacheprovider",
                "-q",
                "-rfE",
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    sys.stdout.write(result.stdout[-5000:])
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
    assert "failed" not in result.stdout

"""Property-based (hypothesis): what the gate lets through holds no detectable personal value,
and every row it lets through stands for at least k contributors."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum import iban

from datenschatz.config import Settings
from datenschatz.db.migrate import upgrade
from datenschatz.hub import Hub
from datenschatz.privacy.gate import evaluate_version
from tests.helpers import add_version

_slugs = itertools.count()


def _iban(digits: str) -> str:
    return "DE" + iban.calc_check_digits("DE00" + digits) + digits


ADDRESS = re.compile(r"(Bahnhof|Haupt|Schul)straße [1-9][0-9]?")
# Personal values the detectors know, each as a strategy of concrete values.
PERSONAL = st.one_of(
    st.text("0123456789", min_size=18, max_size=18).map(_iban),
    st.from_regex(r"[a-z]{3,8}\.[a-z]{3,8}@[a-z]{4,9}\.(de|org|com)", fullmatch=True),
    st.from_regex(r"\+49 (2323|231|30|176) [1-9][0-9]{6}", fullmatch=True),
    st.from_regex(r"0(2323|231|234) / [1-9][0-9]{5}", fullmatch=True),
    st.sampled_from(["Anna Müller", "Peter Schmidt", "Frau Becker", "Herr Wagner"]),
    st.from_regex(ADDRESS.pattern, fullmatch=True),
    st.from_regex(r"geb\. [12][0-9]\.0[1-9]\.19[5-9][0-9]", fullmatch=True),
    st.from_regex(r"DE000562446230[0-9A-Z]{19}", fullmatch=True),
)
CLEAN = st.sampled_from(
    ["Zählerstand geprüft", "ok", "Herne-Mitte", "PM10 erhöht", "Leerung am Montag", "", "12,5"]
)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Hub:
    tmp: Path = tmp_path_factory.mktemp("privacy-properties")
    hub = Hub(Settings(data_dir=tmp / "data", database_url=f"sqlite:///{tmp / 'db.sqlite3'}"))
    hub.store.ensure()
    upgrade(hub.engine)
    return hub


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@settings(
    max_examples=30,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(st.tuples(CLEAN, st.one_of(st.none(), PERSONAL), CLEAN), min_size=3, max_size=40),
    role=st.sampled_from(["public_key", "measure", "quasi_id", "sensitive"]),
)
def test_no_value_the_gate_lets_through_matches_a_detector(
    hub: Hub, rows: list[tuple[str, str | None, str]], role: str
) -> None:
    cells = [f"{a} {p} {b}".strip() if p else a for a, p, b in rows]
    # By design a public_key column may hold addresses (of public places: car parks, schools).
    planted = [p for _a, p, _b in rows if p and not (role == "public_key" and ADDRESS.fullmatch(p))]
    values = ", ".join(f"({i}, {_sql_string(c)})" for i, c in enumerate(cells))
    slug = f"prop-{next(_slugs)}"
    add_version(
        hub,
        slug,
        f"SELECT n, info FROM (VALUES {values}) t(n, info)",
        roles={"info": role, "n": "public_key"},
    )
    verdict = evaluate_version(hub, slug)
    if verdict.passed:
        assert planted == [], (planted, verdict.report["columns"])
    if planted:
        assert not verdict.passed


@settings(
    max_examples=40,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(counts=st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=30))
def test_every_row_the_gate_lets_through_has_at_least_k_contributors(
    hub: Hub, counts: list[int]
) -> None:
    values = ", ".join(f"({i}, {c}, {c * 1000.5})" for i, c in enumerate(counts))
    slug = f"count-{next(_slugs)}"
    add_version(
        hub,
        slug,
        f"SELECT * FROM (VALUES {values}) t(zelle, haushalte, kwh)",
        roles={"zelle": "public_key", "haushalte": "contributor_count", "kwh": "measure"},
    )
    verdict = evaluate_version(hub, slug)
    assert verdict.passed == (min(counts) >= verdict.report["k"])
    if verdict.passed:
        assert verdict.report["smallest_group"] >= 5

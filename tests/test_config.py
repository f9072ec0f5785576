from __future__ import annotations

import re
from pathlib import Path

import pytest

from datenschatz.config import Settings, load_settings, settings_help
from datenschatz.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


def test_defaults_put_sqlite_inside_the_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATENSCHATZ_DATABASE_URL", raising=False)
    monkeypatch.delenv("DATENSCHATZ_DATA_DIR", raising=False)
    settings = load_settings()
    assert settings.data_dir == Path("./datenschatz-data")
    assert settings.resolved_database_url == (
        f"sqlite:///{Path('./datenschatz-data').resolve() / 'datenschatz.sqlite3'}"
    )


def test_environment_sets_data_dir_and_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATENSCHATZ_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATENSCHATZ_DATABASE_URL", "postgresql://u@db.example/hub")
    settings = load_settings()
    assert settings.resolved_data_dir == tmp_path.resolve()
    assert settings.resolved_database_url == "postgresql+psycopg://u@db.example/hub"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATENSCHATZ_MAX_UPLOAD_BYTES", "-5"),
        ("DATENSCHATZ_MAX_UPLOAD_BYTES", "lots"),
        ("DATENSCHATZ_QUERY_TIMEOUT_SECONDS", "0"),
        ("DATENSCHATZ_DATABASE_URL", "mysql://x/y"),
        ("DATENSCHATZ_LOG_LEVEL", "LOUD"),
        ("DATENSCHATZ_QUERY_MEMORY_LIMIT", "plenty"),
        ("DATENSCHATZ_PORT", "70000"),
    ],
)
def test_bad_setting_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert variable in str(caught.value)


def test_generated_secret_key_is_stable_per_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = settings.signing_key()
    assert len(first) >= 40
    assert Settings(data_dir=tmp_path).signing_key() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_configured_secret_key_wins(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key="s3cret-from-env")  # type: ignore[arg-type]
    assert settings.signing_key() == "s3cret-from-env"
    assert not (tmp_path / "secret_key").exists()


def test_every_setting_is_documented() -> None:
    doc = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`(DATENSCHATZ_[A-Z_]+)`", doc))
    declared = {name for name, *_ in settings_help()}
    assert declared - documented == set(), "settings missing from docs/configuration.md"
    assert documented - declared == set(), "docs/configuration.md names unknown settings"

"""Settings: every setting declared once, with its type, default and help text.

Values come from the environment (prefix ``DATENSCHATZ_``) or a ``.env`` file. A bad value
stops the start with a message that names the setting (see :func:`load_settings`).
"""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from datenschatz.errors import ConfigError

ENV_PREFIX = "DATENSCHATZ_"


class Settings(BaseSettings):
    """All settings of a Datenschatz installation."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", frozen=True
    )

    data_dir: Annotated[
        Path,
        Field(description="Directory for the version store, the SQLite database and temp files."),
    ] = Path("./datenschatz-data")
    database_url: Annotated[
        str | None,
        Field(
            description=(
                "SQLAlchemy URL of the relational store, e.g. "
                "postgresql+psycopg://user@host/db. Default: a SQLite file in the data directory."
            )
        ),
    ] = None
    secret_key: Annotated[
        SecretStr | None,
        Field(
            description=(
                "Secret for signing sessions and tokens. Set it in production; when unset a "
                "random key is kept in <data_dir>/secret_key."
            )
        ),
    ] = None
    max_upload_bytes: Annotated[
        int, Field(gt=0, description="Largest file accepted for ingest, in bytes.")
    ] = 2 * 1024**3
    max_unpacked_bytes: Annotated[
        int,
        Field(gt=0, description="Largest total size an archive (zip) may unpack to, in bytes."),
    ] = 8 * 1024**3
    max_compression_ratio: Annotated[
        int, Field(gt=1, description="Largest unpacked/packed ratio of an archive member.")
    ] = 200
    query_timeout_seconds: Annotated[
        float, Field(gt=0, description="Time limit of one query against the version store.")
    ] = 5.0
    query_memory_limit: Annotated[
        str, Field(description="Memory limit of one DuckDB query connection, e.g. '2GB'.")
    ] = "2GB"
    rows_per_page: Annotated[
        int, Field(gt=0, le=100_000, description="Default rows per page of the rows API.")
    ] = 100
    max_rows_per_page: Annotated[
        int, Field(gt=0, le=1_000_000, description="Largest page the rows API serves.")
    ] = 10_000
    duckdb_threads: Annotated[
        int, Field(ge=1, le=256, description="Threads DuckDB may use for ingest and queries.")
    ] = 2
    ingest_memory_limit: Annotated[
        str, Field(description="Memory limit of DuckDB while ingesting a file, e.g. '4GB'.")
    ] = "4GB"
    metadata_cache_seconds: Annotated[
        float,
        Field(
            ge=0,
            description=(
                "How long a process may serve dataset metadata from its cache; changes made "
                "in the same process show at once. 0 switches the cache off."
            ),
        ),
    ] = 2.0
    recipe_schedule_minutes: Annotated[
        float,
        Field(
            ge=0,
            description=(
                "While the server runs, re-run stale recipes (an input has a newer published "
                "version) every this many minutes. 0 switches the schedule off."
            ),
        ),
    ] = 0.0
    privacy_epsilon_budget: Annotated[
        float,
        Field(
            gt=0,
            description=(
                "Differential-privacy budget (total epsilon) of one source population, for "
                "populations created from now on; a DP treatment that would exceed it is refused."
            ),
        ),
    ] = 3.0
    privacy_min_group_size: Annotated[
        int,
        Field(
            ge=5,
            description=(
                "Smallest number of contributors (people, households) behind a published row or "
                "group; at least 5 (§ 52 Abs. 3 MsbG). A dataset's min_group_size may raise it."
            ),
        ),
    ] = 5
    privacy_names_file: Annotated[
        Path | None,
        Field(
            description=(
                "File of person names (one a line, '#' comments) the privacy gate looks for; "
                "default: a small shipped list of common German first and last names."
            )
        ),
    ] = None
    host: Annotated[str, Field(description="Address `datenschatz serve` binds to.")] = "127.0.0.1"
    port: Annotated[
        int, Field(ge=1, le=65535, description="Port `datenschatz serve` listens on.")
    ] = 8000
    mqtt_url: Annotated[
        str | None,
        Field(
            description=(
                "MQTT broker for SensorThings over MQTT, e.g. mqtt://127.0.0.1:1883 "
                "(mqtts:// for TLS, user:password@ for credentials). When set, `datenschatz "
                "serve` runs the MQTT bridge too; `datenschatz sensors bridge` runs it alone."
            )
        ),
    ] = None
    mqtt_client_id: Annotated[
        str,
        Field(
            min_length=1,
            max_length=64,
            description=(
                "MQTT client id of the bridge. Its persistent session (subscriptions, queued "
                "messages) is kept under this id: give each bridge process its own."
            ),
        ),
    ] = "datenschatz-bridge"
    mqtt_shared_group: Annotated[
        str | None,
        Field(
            pattern=r"^[A-Za-z0-9_-]{1,64}$",
            description=(
                "Run several MQTT bridge processes side by side: each subscribes in this MQTT 5 "
                "shared subscription group and the broker splits the observations between "
                "them. Give each its own DATENSCHATZ_MQTT_CLIENT_ID. Default: one bridge."
            ),
        ),
    ] = None
    mqtt_notify: Annotated[
        bool,
        Field(
            description=(
                "Whether the MQTT bridge publishes every created or changed SensorThings entity "
                "to the standard's topics (v1.1/Datastreams(1)/Observations, v1.1/Things(1), "
                "...). Switch off for a bridge that only takes observations in."
            )
        ),
    ] = True
    mqtt_base_url: Annotated[
        str | None,
        Field(
            description=(
                "The MQTT endpoint announced to clients in the SensorThings service root, "
                "e.g. mqtts://daten.example.org:8883 (never with credentials)."
            )
        ),
    ] = None
    sta_base_url: Annotated[
        str | None,
        Field(
            description=(
                "Absolute SensorThings base URL for self links made outside an HTTP request "
                "(MQTT notifications, importers), e.g. https://daten.example.org/sta/v1.1. "
                "Default: http://<host>:<port>/sta/v1.1."
            )
        ),
    ] = None
    log_level: Annotated[str, Field(description="Log level: DEBUG, INFO, WARNING or ERROR.")] = (
        "INFO"
    )
    release_decisions: Annotated[
        str,
        Field(
            description=(
                "Which board decisions a release needs, comma-separated: technical, political, "
                "ethical. The requester may never approve their own release."
            ),
            pattern=(
                r"^\s*(technical|political|ethical)"
                r"(\s*,\s*(technical|political|ethical))*\s*$"
            ),
        ),
    ] = "technical,political,ethical"
    rate_limit_token_per_minute: Annotated[
        int,
        Field(
            ge=0,
            description=(
                "Requests one API token may send per minute (per API process); 0 switches the "
                "limit off."
            ),
        ),
    ] = 1200
    rate_limit_ip_per_minute: Annotated[
        int,
        Field(
            ge=0,
            description=(
                "Requests without a valid token one client address may send per minute (per "
                "API process); 0 switches the limit off."
            ),
        ),
    ] = 600
    rate_limit_trust_forwarded: Annotated[
        bool,
        Field(
            description=(
                "Take the client address from the last X-Forwarded-For entry (set this behind "
                "a reverse proxy that writes it, never otherwise)."
            )
        ),
    ] = False
    web_tile_url: Annotated[
        str | None,
        Field(
            description=(
                "Map tiles under the web UI's maps, e.g. https://tiles.example/{z}/{x}/{y}.png "
                "(a server the browsers may reach). Unset: a plain background with the district "
                "boundaries as context, no request leaves the hub."
            )
        ),
    ] = None

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return level

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must start with sqlite:// or postgresql+psycopg://")
        if value.startswith("postgresql://"):
            # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
            return "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("query_memory_limit", "ingest_memory_limit")
    @classmethod
    def _memory_size(cls, value: str) -> str:
        import re

        if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", value.strip()):
            raise ValueError("must be a size such as '512MB' or '2GB'")
        return value.strip()

    @cached_property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_data_dir / 'datenschatz.sqlite3'}"

    @property
    def versions_dir(self) -> Path:
        return self.resolved_data_dir / "versions"

    @property
    def tmp_dir(self) -> Path:
        return self.resolved_data_dir / "tmp"

    def signing_key(self) -> str:
        """The secret key, generated once per data directory when none is configured."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.resolved_data_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


def load_settings(**overrides: object) -> Settings:
    """Read and validate the settings; a bad value raises ConfigError naming the setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = ENV_PREFIX + "_".join(str(p) for p in err["loc"]).upper()
            problems.append(f"{name}: {err['msg']}")
        raise ConfigError("Invalid setting. " + "; ".join(problems)) from None


def settings_help() -> list[tuple[str, str, str, str]]:
    """(environment variable, type, default, help) for every setting, for docs and the CLI."""
    rows = []
    for name, field in Settings.model_fields.items():
        kind = str(field.annotation).replace("pydantic.types.", "").replace("pathlib.", "")
        kind = kind.removeprefix("<class '").removesuffix("'>").replace(" | ", " or ")
        default = field.default
        shown = "(none)" if default is None else str(default)
        rows.append((ENV_PREFIX + name.upper(), kind, shown, field.description or ""))
    return rows

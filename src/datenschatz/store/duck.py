"""DuckDB connections with the spatial extension loaded by file path.

Nothing is installed or downloaded at run time: automatic extension install/load is switched
off, and the spatial extension comes from the pinned ``duckdb-extension-spatial`` wheel.
"""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from datenschatz.errors import ConfigError

if TYPE_CHECKING:
    # Imported where a connection is made: the hub (and so every command) imports this module.
    import duckdb


@cache
def spatial_extension_path() -> Path:
    """The spatial extension file shipped by the ``duckdb-extension-spatial`` wheel."""
    import duckdb

    try:
        import duckdb_extension_spatial
    except ImportError:  # pragma: no cover - the package is a hard dependency
        raise ConfigError(
            "The package duckdb-extension-spatial is missing; run `make install`."
        ) from None
    root = Path(duckdb_extension_spatial.__file__).parent / "extensions"
    path = root / f"v{duckdb.__version__}" / "spatial.duckdb_extension"
    if not path.is_file():
        raise ConfigError(
            f"duckdb-extension-spatial does not match duckdb {duckdb.__version__}; "
            "install the pinned versions with `make install`."
        )
    return path


def connect(
    *,
    threads: int = 2,
    memory_limit: str | None = None,
    temp_dir: Path | None = None,
    spatial: bool = True,
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection; spatial loaded from the wheel unless told otherwise."""
    import duckdb

    config: dict[str, str | bool | int | float | list[str]] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "threads": threads,
    }
    if memory_limit:
        config["memory_limit"] = memory_limit
    if temp_dir is not None:
        temp_dir.mkdir(parents=True, exist_ok=True)
        config["temp_directory"] = str(temp_dir)
    con = duckdb.connect(":memory:", config=config)
    if spatial:
        con.execute(f"LOAD {sql_string(str(spatial_extension_path()))}")
    return con


_SHARED: dict[tuple[int, str | None, str | None, bool], duckdb.DuckDBPyConnection] = {}
_SHARED_LOCK = threading.Lock()


def cursor(
    *,
    threads: int = 2,
    memory_limit: str | None = None,
    temp_dir: Path | None = None,
    spatial: bool = True,
) -> duckdb.DuckDBPyConnection:
    """A new connection to a process-wide in-memory database with spatial already loaded.

    Loading the spatial extension takes about half a second; a cursor costs microseconds.
    Temporary tables and views are private to each cursor, so concurrent ingests or queries
    that use only TEMP objects do not see each other. Close the cursor when done.
    """
    key = (threads, memory_limit, str(temp_dir) if temp_dir else None, spatial)
    with _SHARED_LOCK:
        root = _SHARED.get(key)
        if root is None:
            root = _SHARED[key] = connect(
                threads=threads, memory_limit=memory_limit, temp_dir=temp_dir, spatial=spatial
            )
    return root.cursor()


def _quote(text: str) -> str:
    return text.replace("'", "''")


def sql_string(text: str) -> str:
    """A SQL string literal for DuckDB."""
    return "'" + _quote(text) + "'"


def sql_ident(name: str) -> str:
    """A quoted SQL identifier for DuckDB."""
    return '"' + name.replace('"', '""') + '"'

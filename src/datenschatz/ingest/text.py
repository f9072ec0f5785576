"""CSV, TSV and TXT files: sniff, parse once in DuckDB, infer types from every row.

The head of the file decides encoding, delimiter, quoting and preamble (see
:mod:`datenschatz.ingest.sniff`). A file sniffed as UTF-8 is validated in full (chunked; in the
optimistic pass of a large file, DuckDB's reader validates every field instead);
files in other encodings are transcoded to a UTF-8 temp file in chunks (bounded memory).
DuckDB reads the file with every column as VARCHAR, :mod:`datenschatz.ingest.infer` types the
columns from all rows in one aggregate pass, and the returned SELECT converts them. Columns whose
values all fit a type that DuckDB's CSV reader parses exactly like the conversion (canonical
integers, plain numbers with a decimal point, ISO dates and timestamps without offset,
true/false) are read typed by the returned SELECT instead, with the same reader options.

Empty and null: an unquoted empty field is NULL; a quoted empty field ("") stays the empty
string in a text column (and is NULL in a typed one).

The rows are not copied into DuckDB unless needed: the type pass reads the file, and so does the
returned SELECT (a transcoded temp file is then listed in ``Staged.cleanup``). Only when
rejected values must be located by line are the rows stored once as a temp table.

Line numbers are 1-based lines of the source file, preamble and header counted. Rows with a
different number of fields than the header, unclosed quotes and invalid UTF-8 are refused with
the exact line. For values reported in the quality report the line is derived from the row's
position: records whose quoted fields span several lines and blank lines between rows are
accounted for, but a quoted field that itself contains an empty line shifts the reported line
of later rows by one per such line.
"""

from __future__ import annotations

import codecs
import logging
import re
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path

import duckdb

from datenschatz.errors import IngestError
from datenschatz.ingest import sniff
from datenschatz.ingest.infer import Inference, Source, check_names, infer, infer_optimistic
from datenschatz.ingest.model import IngestOptions, Staged
from datenschatz.store.duck import sql_ident, sql_string

log = logging.getLogger(__name__)

CHUNK = 4 * 1024 * 1024
# Validation decodes and drops each chunk: small chunks reuse the same memory (a 4 MiB string
# per chunk costs fresh pages each time, about 0.1 CPU s per 100 MB).
VALIDATE_CHUNK = 64 * 1024
MAX_LINE_BYTES = 16 * 1024 * 1024
# From this size on, a file is first read in one optimistic pass (types guessed from its first
# rows, checked while writing); smaller files are cheap to read carefully at once.
OPTIMISTIC_MIN_BYTES = 8 * 1024 * 1024
# UTF-8 for ÄÖÜäöüß and €: in a file that is not valid UTF-8 they mean mixed encodings.
_UTF8_GERMAN = re.compile(rb"\xc3[\x84\x96\x9c\xa4\xb6\xbc\x9f]|\xe2\x82\xac")
_FOUND = re.compile(r"Found: (\d+)")
_DUCKDB_LINE = re.compile(r"CSV Error on Line: (\d+)")


def read_csv(
    con: duckdb.DuckDBPyConnection, path: Path, options: IngestOptions, *, optimistic: bool = True
) -> Staged:
    """Parse a delimited text file with DuckDB on ``con``; see the module docstring.

    A large UTF-8 file is first read in one optimistic pass (unless ``optimistic`` is false).
    """
    shown = options.display_name or path.name
    with path.open("rb") as fh:
        head = fh.read(sniff.HEAD_BYTES)
        complete = not fh.read(1)
    if not head.strip():
        raise IngestError(
            "The file is empty or contains only blank lines.", key="ingest.empty", file=shown
        )
    sniffed = sniff.sniff_encoding(head, file=shown)
    # The optimistic pass reads every field as text, and DuckDB refuses any that is not UTF-8:
    # it skips the full validation here. A file that is not UTF-8 further down fails that pass,
    # and the careful reading starts over, validating (and transcoding Windows-1252).
    large = path.stat().st_size >= OPTIMISTIC_MIN_BYTES and optimistic
    unchecked = large and not sniffed.transcode
    encoding = sniffed if unchecked else _check_utf8(path, sniffed, shown)
    temps: list[Path] = []
    try:
        source = path
        if encoding.transcode:
            source, encoding = _transcode(con, path, encoding, shown)
            temps.append(source)
        dialect = sniff.sniff_dialect(_head_text(source), complete=complete, file=shown)
        names = check_names(dialect.names, file=shown, line=dialect.header_line)
        details = {
            "encoding": encoding.label,
            "delimiter": None
            if dialect.delimiter == sniff.SINGLE_COLUMN_DELIMITER
            else dialect.delimiter,
            "quote_char": dialect.quote,
            "preamble_lines": dialect.preamble_lines,
            "header_line": dialect.header_line,
        }

        def careful() -> Staged:
            if unchecked:
                return read_csv(con, path, options, optimistic=False)
            return _read_careful(con, source, dialect, names, details, temps, shown)

        guess = None
        if large and len(names) > 1 and not dialect.sample_is_all:
            text = f"read_csv({_csv_options(source, dialect, len(names))})"
            rows = Source(con, text, table=False)
            columns = [(f"c{i}", name) for i, name in enumerate(names, start=1)]
            try:
                guess = infer_optimistic(
                    rows, columns, sample=dialect.sample, decimal_hint=dialect.decimal_hint
                )
            except duckdb.Error:
                guess = None  # the careful reading names what is wrong with the file
        if guess is None:
            return careful()
        # Most large files are regular: one pass converts and writes them. Should a later
        # value not fit the guess, writing fails and the pipeline reads the file carefully.
        return Staged(
            select_sql=guess.select_sql,
            format="csv",
            notes=guess.notes,
            details={**details, "decimal_separator": guess.decimal_separator},
            cleanup=temps,
            retry=careful,
        )
    except BaseException:
        for tmp in temps:
            tmp.unlink(missing_ok=True)
        raise


def _read_careful(
    con: duckdb.DuckDBPyConnection,
    source: Path,
    dialect: sniff.Dialect,
    names: list[str],
    details: Mapping[str, object],
    temps: list[Path],
    shown: str,
) -> Staged:
    """Count over all rows before choosing types; name every value that does not fit."""
    try:
        rows, result = _infer(con, source, dialect, names)
    except duckdb.Error as exc:
        raise _diagnose(con, source, dialect, len(names), exc, shown) from None
    if result.rows == 0:
        raise IngestError(
            f"The file has no data rows below its header (line {dialect.header_line}).",
            key="ingest.no_rows_below_header",
            file=shown,
            line=dialect.header_line,
        )
    if rows.stored:  # the rows are in DuckDB now; the SELECT no longer reads the file
        for tmp in temps:
            tmp.unlink(missing_ok=True)
        temps.clear()
    return Staged(
        select_sql=result.select_sql,
        format="csv",
        notes=result.notes,
        details={**details, "decimal_separator": result.decimal_separator},
        cleanup=temps,
    )


def _infer(
    con: duckdb.DuckDBPyConnection, source: Path, dialect: sniff.Dialect, names: list[str]
) -> tuple[Source, Inference]:
    """Type the columns; the rows stay in the file unless a pass needs row ids."""
    rows = Source(con, f"read_csv({_csv_options(source, dialect, len(names))})", table=False)

    def typed(types: Mapping[str, str]) -> str:
        return f"read_csv({_csv_options(source, dialect, len(names), types)})"

    if len(names) == 1:
        # In a one-column file a blank line is an empty value; blank lines at the end are not.
        table = rows.table()
        con.execute(
            f"DELETE FROM {table} WHERE rowid > "
            f"(SELECT coalesce(max(rowid), -1) FROM {table} WHERE c1 IS NOT NULL)"
        )
    columns = [(f"c{i}", name) for i, name in enumerate(names, start=1)]
    result = infer(
        rows,
        columns,
        locate=_Locator(rows, source, dialect, len(names)),
        decimal_hint=dialect.decimal_hint,
        line_label="line",
        sample=dialect.sample,
        sample_is_all=dialect.sample_is_all,
        typed_source=typed,
    )
    return rows, result


def _head_text(source: Path) -> str:
    """The decoded head of the file DuckDB reads (UTF-8 after any transcoding)."""
    with source.open("rb") as fh:
        head = fh.read(sniff.HEAD_BYTES)
    bom = 3 if head.startswith(codecs.BOM_UTF8) else 0
    return codecs.getincrementaldecoder("utf-8")(errors="replace").decode(head[bom:], final=False)


def _csv_options(
    source: Path, dialect: sniff.Dialect, width: int, types: Mapping[str, str] | None = None
) -> str:
    """read_csv arguments: every column VARCHAR, or as ``types`` says (by name c1, c2, ...)."""
    types = types or {}
    columns = ", ".join(
        f"{sql_string(name)}: {sql_string(types.get(name, 'VARCHAR'))}"
        for name in (f"c{i}" for i in range(1, width + 1))
    )
    quote = sql_string(dialect.quote)
    return (
        f"{sql_string(str(source))}, delim={sql_string(dialect.delimiter)}, quote={quote}, "
        f"escape={quote}, header=true, skip={dialect.skip}, columns={{{columns}}}, "
        f"auto_detect=false, all_varchar={'false' if types else 'true'}, "
        "allow_quoted_nulls=false, strict_mode=true, "
        f"null_padding=false, max_line_size={MAX_LINE_BYTES}"
    )


# --- encodings --------------------------------------------------------------------------------


def _temp_dir(con: duckdb.DuckDBPyConnection) -> Path:
    """DuckDB's temp directory when one is configured, else the system's."""
    row = con.execute("SELECT current_setting('temp_directory')").fetchone()
    configured = Path(str(row[0])) if row and row[0] else None
    if configured is not None and configured.is_absolute():
        configured.mkdir(parents=True, exist_ok=True)
        return configured
    return Path(tempfile.gettempdir())


def _transcode(
    con: duckdb.DuckDBPyConnection, path: Path, encoding: sniff.Encoding, shown: str
) -> tuple[Path, sniff.Encoding]:
    """Write ``path`` as UTF-8 to a temp file, chunk by chunk; return it and the encoding seen."""
    single_byte = encoding.codec == "cp1252"
    errors = sniff.SINGLE_BYTE_ERRORS if single_byte else "strict"
    decoder = codecs.getincrementaldecoder(encoding.codec)(errors=errors)
    handle, name = tempfile.mkstemp(prefix="datenschatz-", suffix=".csv", dir=_temp_dir(con))
    target = Path(name)
    cp1252_seen = False
    lines = 1
    try:
        with path.open("rb") as src, open(handle, "wb") as dst:
            while True:
                chunk = src.read(CHUNK)
                try:
                    text = decoder.decode(chunk, final=not chunk)
                except UnicodeDecodeError as exc:
                    pending = len(exc.object) - len(chunk)
                    line = lines + chunk[: max(exc.start - pending, 0)].count(b"\n")
                    raise IngestError(
                        f"The file is not valid {encoding.label}.",
                        key="ingest.bad_encoding",
                        params={"encoding": encoding.label},
                        file=shown,
                        line=line,
                    ) from None
                if single_byte:
                    cp1252_seen = cp1252_seen or sniff.has_cp1252_bytes(chunk)
                    if _UTF8_GERMAN.search(chunk):
                        raise _mixed_encoding(path, shown)
                lines += text.count("\n")
                dst.write(text.encode("utf-8"))
                if not chunk:
                    break
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if single_byte:
        encoding = sniff.WINDOWS_1252 if cp1252_seen else sniff.LATIN_1
    return target, encoding


def _check_utf8(path: Path, encoding: sniff.Encoding, shown: str) -> sniff.Encoding:
    """Validate a file sniffed as UTF-8 (DuckDB checks only the columns a query reads).

    A file that is plain ASCII at the top and has other bytes further down is taken as
    Windows-1252 (a typical Windows export); one that showed UTF-8 at the top is refused.
    """
    if encoding.transcode:
        return encoding
    invalid = _first_invalid_utf8(path, encoding.bom)
    if invalid is None:
        return encoding
    if not encoding.certain:
        return sniff.WINDOWS_1252
    raise IngestError(
        "The file is not valid UTF-8: it holds bytes of another encoding.",
        key="ingest.not_utf8",
        file=shown,
        line=invalid,
    )


def _mixed_encoding(path: Path, shown: str) -> IngestError:
    return IngestError(
        "The file mixes UTF-8 with another encoding; save it in one encoding (UTF-8).",
        key="ingest.mixed_encoding",
        file=shown,
        line=_first_invalid_utf8(path),
    )


def _first_invalid_utf8(path: Path, skip: int = 0) -> int | None:
    """1-based line of the first byte that is not valid UTF-8, or None; chunked."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 1
    with path.open("rb") as fh:
        fh.seek(skip)
        while True:
            chunk = fh.read(VALIDATE_CHUNK)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                pending = len(exc.object) - len(chunk)  # bytes held over from the last chunk
                return lines + chunk[: max(exc.start - pending, 0)].count(b"\n")
            if not chunk:
                return None
            lines += chunk.count(b"\n")


# --- parse errors -----------------------------------------------------------------------------


def _diagnose(
    con: duckdb.DuckDBPyConnection,
    source: Path,
    dialect: sniff.Dialect,
    width: int,
    exc: duckdb.Error,
    shown: str,
) -> IngestError:
    """Find the first bad record by reading again with DuckDB's rejects table."""
    log.info("CSV parse failed for %s: %s", shown, exc)
    suffix = uuid.uuid4().hex[:12]
    errors, scans = f"ds_rejects_{suffix}", f"ds_scans_{suffix}"
    try:
        con.execute(
            # count(*) alone would not decode the fields, and so not validate their UTF-8
            f"SELECT count(COLUMNS(*)) FROM read_csv({_csv_options(source, dialect, width)}, "
            f"store_rejects=true, rejects_table={sql_string(errors)}, "
            f"rejects_scan={sql_string(scans)})"
        ).fetchall()
        row = con.execute(
            f"SELECT error_type, line_byte_position, error_message "
            f"FROM {sql_ident(errors)} ORDER BY line_byte_position LIMIT 1"
        ).fetchone()
    except duckdb.Error:
        row = None
    finally:
        con.execute(f"DROP TABLE IF EXISTS {sql_ident(errors)}")
        con.execute(f"DROP TABLE IF EXISTS {sql_ident(scans)}")
    if row is None:
        found = _DUCKDB_LINE.search(str(exc))
        line = int(found.group(1)) if found else None
        return IngestError(
            "The file could not be parsed as CSV.",
            key="ingest.csv_unparsable",
            file=shown,
            line=line,
        )
    kind, offset, detail = str(row[0]), int(row[1]), str(row[2])
    line = _line_of_offset(source, offset)
    key = "ingest.csv_unparsable"
    params: dict[str, object] = {"width": width, "limit_bytes": MAX_LINE_BYTES}
    if kind in {"TOO MANY COLUMNS", "MISSING COLUMNS"}:
        found = _FOUND.search(detail)
        count = int(found.group(1)) if found else None
        fields = (
            f"{count} field{'' if count == 1 else 's'}"
            if count is not None
            else "a different number of fields"
        )
        message = f"Row has {fields}, the header has {width}."
        key = "ingest.row_width" if count is not None else "ingest.row_width_other"
        params["fields"] = count
    elif kind == "UNQUOTED VALUE":
        message = "A quoted field is not closed, or text follows its closing quote."
        key = "ingest.unclosed_quote"
    elif kind in {"INVALID ENCODING", "INVALID UNICODE"}:
        message = "The file is not valid UTF-8: it holds bytes of another encoding."
        key = "ingest.not_utf8"
    elif kind == "LINE SIZE OVER MAXIMUM":
        message = f"A line is longer than {MAX_LINE_BYTES:,} bytes."
        key = "ingest.line_too_long"
    else:
        message = "The row could not be parsed as CSV."
    return IngestError(message, key=key, params=params, file=shown, line=line)


def _line_of_offset(path: Path, offset: int) -> int:
    """1-based line of a byte offset, counting newlines in chunks."""
    lines, read = 1, 0
    newline = b"\n"
    with path.open("rb") as fh:
        while read < offset and (chunk := fh.read(min(CHUNK, offset - read))):
            if read == 0 and b"\n" not in chunk and b"\r" in chunk:
                newline = b"\r"
            lines += chunk.count(newline)
            read += len(chunk)
    return lines


# --- line numbers for the quality report -----------------------------------------------------


class _Locator:
    """Maps rowids of the stored rows to source lines (only called for reported values)."""

    def __init__(self, rows: Source, source: Path, dialect: sniff.Dialect, width: int) -> None:
        self.rows, self.source = rows, source
        self.dialect, self.width = dialect, width

    def __call__(self, rowids: list[int]) -> list[int]:
        if not rowids:
            return []
        limit = max(rowids)
        multi = self._multiline_records(limit)
        blanks = self._blank_lines() if self.width > 1 else []
        lines = []
        for rowid in rowids:
            line = self.dialect.data_line + rowid + sum(n for r, n in multi if r < rowid)
            for blank in blanks:
                if blank > line:
                    break
                line += 1
            lines.append(line)
        return lines

    def _multiline_records(self, limit: int) -> list[tuple[int, int]]:
        """(rowid, extra lines) of records before ``limit`` whose quoted fields span lines."""
        nl = "chr(13)" if self.dialect.newline == "\r" else "chr(10)"
        cols = [sql_ident(f"c{i}") for i in range(1, self.width + 1)]
        extra = " + ".join(
            f"coalesce(length({c}) - length(replace({c}, {nl}, '')), 0)" for c in cols
        )
        any_nl = " OR ".join(f"contains({c}, {nl})" for c in cols)
        found = self.rows.con.execute(
            f"SELECT rowid, {extra} FROM {self.rows.table()} WHERE rowid < {limit} AND ({any_nl})"
        ).fetchall()
        return [(int(r[0]), int(r[1])) for r in found]

    def _blank_lines(self) -> list[int]:
        """Empty lines below the header (DuckDB skips them in files with several columns)."""
        if self.dialect.newline == "\r":
            return []
        blanks = []
        with self.source.open("rb") as fh:
            for number, raw in enumerate(fh, start=1):
                if number >= self.dialect.data_line and raw in (b"\n", b"\r\n"):
                    blanks.append(number)
        return blanks

"""Tables and target checks of the data-access benchmark."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from access_cases import DEEP_ROW, DS, DS_NO_FACETS, HUB, Case, Sample
from common import fmt

MIN_SPEEDUP = 20.0  # hub vs Datasette on filtered page, aggregate, CSV export
MAX_DEEP_SLOWDOWN = 2.0  # hub deep page vs hub first page
MAX_EXPORT_RSS_MB = 500.0  # hub server peak RSS during a 10 M-row CSV export
MIN_RPS = 3000.0  # hub metadata endpoint, one worker
LARGE_ROWS_FOR_RSS = 10_000_000


@dataclass
class Series:
    case: str
    peer: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def times(self) -> list[float]:
        return [s.seconds for s in self.samples]

    @property
    def best(self) -> float | None:
        return min(self.times) if self.samples else None

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.samples else None

    @property
    def incomplete(self) -> int:
        return sum(not s.complete for s in self.samples)

    @property
    def peak_rss_mb(self) -> float | None:
        peaks = [s.peak_rss_mb for s in self.samples if s.peak_rss_mb is not None]
        return max(peaks) if peaks else None


def _by(series: list[Series]) -> dict[tuple[str, str], Series]:
    return {(s.case, s.peer): s for s in series}


def _speedup(ds: Series | None, hub: Series | None) -> tuple[float | None, float | None, bool]:
    """Datasette time / hub time on best and median; True when Datasette was cut short."""
    if not ds or not hub or not ds.best or not hub.best or not ds.median or not hub.median:
        return None, None, False
    return ds.best / hub.best, ds.median / hub.median, ds.incomplete > 0


def report_table(cases: list[Case], series: list[Series]) -> str:
    by = _by(series)
    lines = [
        "| measure | peer | runs | best ms | median ms | Datasette / hub (best, median) | notes |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for case in cases:
        hub = by.get((case.name, HUB))
        for v in case.variants:
            s = by.get((case.name, v.peer))
            if s is None or not s.samples:
                lines.append(f"| {case.name} | {v.peer} | 0 | - | - | - | failed |")
                continue
            ratio = "1.00x" if v.peer == HUB else "-"
            if v.peer != HUB:
                best, median, cut = _speedup(s, hub)
                if best and median:
                    ratio = f"{'≥ ' if cut else ''}{best:.1f}x, {median:.1f}x"
            notes = sorted({x.note.strip() for x in s.samples if x.note.strip()})
            if s.incomplete:
                notes.insert(0, f"{s.incomplete} of {len(s.samples)} cut short")
            if s.peak_rss_mb is not None:
                base = max(x.base_rss_mb or 0 for x in s.samples)
                notes.insert(0, f"peak RSS {s.peak_rss_mb:.0f} MB (idle {base:.0f} MB)")
            lines.append(
                f"| {case.name} | {v.peer} | {len(s.samples)} | {fmt(_ms(s.best), '.1f')} "
                f"| {fmt(_ms(s.median), '.1f')} | {ratio} | {'; '.join(notes)} |"
            )
    return "\n".join(lines)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def load_table(loads: dict[str, Any]) -> str:
    lines = [
        "| peer | path | rounds | best req/s | median req/s | errors |",
        "|---|---|---:|---:|---:|---:|",
    ]
    paths = loads["paths"]
    for name in (HUB, DS):
        runs = loads.get(name, [])
        if not runs:
            lines.append(f"| {name} | `{paths[name]}` | 0 | - | - | - |")
            continue
        rps = [x["rps"] for x in runs]
        errors = sum(x["errors"] for x in runs)
        lines.append(
            f"| {name} | `{paths[name]}` | {len(runs)} | {max(rps):.0f} "
            f"| {statistics.median(rps):.0f} | {errors} |"
        )
    return "\n".join(lines)


def _throughput_text(hub: Series, ds: Series) -> str:
    """Rows per second of both exports: comparable even when Datasette stops at max_csv_mb."""

    def rate(series: Series) -> float | None:
        rates = [s.value / s.seconds for s in series.samples if s.value and s.seconds]
        return statistics.median(rates) if rates else None

    hub_rate, ds_rate = rate(hub), rate(ds)
    if not hub_rate or not ds_rate:
        return ""
    return (
        f"; rows/s: hub {hub_rate:,.0f}, Datasette {ds_rate:,.0f} "
        f"({hub_rate / ds_rate:.1f}x on median throughput)"
    )


def checks(rows: int, series: list[Series], loads: dict[str, Any]) -> list[dict[str, Any]]:
    by = _by(series)
    out: list[dict[str, Any]] = []

    def add(name: str, ok: bool | None, value: float | None, text: str) -> None:
        verdict = "n/a" if ok is None else ("PASS" if ok else "FAIL")
        out.append({"rows": rows, "check": name, "value": value, "result": verdict, "text": text})

    for case in ("filtered_page", "aggregate", "csv_export"):
        if (case, HUB) not in by:
            continue  # not selected (--cases)
        best, median, cut = _speedup(by.get((case, DS)), by.get((case, HUB)))
        if best is None or median is None:
            add(f"{case}_speedup", None, None, f"{case}: not measured")
            continue
        ok: bool | None = median >= MIN_SPEEDUP
        bound = ""
        if cut:  # Datasette stopped early: its time is a lower bound of a full answer
            bound = " (Datasette cut short: a lower bound)"
            ok = True if ok else None
        extra = ""
        if case == "csv_export":
            extra = _throughput_text(by[case, HUB], by[case, DS])
        if case == "filtered_page":
            _, bare, _ = _speedup(by.get((case, DS_NO_FACETS)), by.get((case, HUB)))
            if bare is not None:
                extra = f"; {bare:.1f}x against Datasette without facet suggestions"
        add(
            f"{case}_speedup",
            ok,
            median,
            f"{case}: hub {median:.1f}x Datasette on medians, {best:.1f}x on best "
            f"(target >= {MIN_SPEEDUP:.0f}x){bound}{extra}",
        )
    first, deep = by.get(("first_page", HUB)), by.get(("deep_page", HUB))
    if first and deep and first.median and deep.median and first.best and deep.best:
        slow = deep.median / first.median
        add(
            "deep_page_vs_first",
            slow <= MAX_DEEP_SLOWDOWN,
            slow,
            f"deep page (row {DEEP_ROW:,}) takes {slow:.2f}x the first page on medians, "
            f"{deep.best / first.best:.2f}x on best (target <= {MAX_DEEP_SLOWDOWN:.0f}x)",
        )
    export = by.get(("csv_export", HUB))
    if export and export.peak_rss_mb is not None:
        peak = export.peak_rss_mb
        judged = rows >= LARGE_ROWS_FOR_RSS
        add(
            "csv_export_peak_rss",
            (peak < MAX_EXPORT_RSS_MB) if judged else None,
            peak,
            f"hub server peak RSS during the {rows:,}-row CSV export: {peak:.0f} MB "
            f"(target < {MAX_EXPORT_RSS_MB:.0f} MB at 10 M rows"
            f"{'' if judged else '; judged only there'})",
        )
    hub_runs = loads.get(HUB, [])
    if hub_runs:
        med = statistics.median(x["rps"] for x in hub_runs)
        ds_runs = loads.get(DS, [])
        vs = ""
        if ds_runs:
            vs = f"; Datasette {statistics.median(x['rps'] for x in ds_runs):.0f} req/s"
        add(
            "metadata_rps",
            med >= MIN_RPS,
            med,
            f"metadata endpoint: hub {med:.0f} req/s median, one worker "
            f"(target >= {MIN_RPS:.0f}){vs}",
        )
    return out

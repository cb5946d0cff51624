"""The run report and run comparison: sections, numbers equal to metrics.json, self-containment,
atomic writing, and bad input (exit 2). The browser checks are in test_report_browser.py."""

from __future__ import annotations

import copy
import html
import json
import re
import shlex
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from sim.cli import main

from .conftest import scenario_dict

#: The sections issue 6 asks for, by id (written out here, not taken from sim.report).
REQUIRED_SECTIONS = ["scenario", "tariffs", "population", "load-curves", "load-duration", "monthly", "metrics",
                     "revenue", "bill-impacts", "events", "assumptions", "provenance"]

#: Charts every report of the test scenario has (its scenario tariff is a TOU named `tou`).
REQUIRED_FIGURES = ["fig-schedule-tou", "fig-peak-day", "fig-typical-days", "fig-duration", "fig-monthly",
                    "fig-revenue", "fig-bills"]

REQUIRED_TABLES = ["tab-summary", "tab-scenario", "tab-prices-tou", "tab-charges-tou", "tab-prices-flat",
                   "tab-population", "tab-duration", "tab-monthly", "tab-metrics-system", "tab-metrics-change",
                   "tab-revenue-system", "tab-revenue-segments", "tab-welfare", "tab-winners", "tab-winners-pct",
                   "tab-assumptions", "tab-provenance", "tab-packages"]

CPP_EVENTS = [{"date": "2024-02-22", "hours": "18:00-20:00"}, {"date": "2024-02-27", "hours": "17:00-19:00"}]


def make_run(folder: Path, name: str, *, events: bool = False, report: bool = True, data: dict | None = None,
             **changes) -> Path:
    """Run the small test scenario (or ``data``) into ``folder/name`` (with ``--report`` unless told not to)."""
    data = data or scenario_dict(**changes)
    if events:
        data = copy.deepcopy(data)
        data["tariffs"]["tou"]["critical_peak"] = {"price_adder_per_kwh": 0.6, "events": CPP_EVENTS}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    out = folder / name
    assert main(["run", str(path), "--out", str(out), "--quiet", *(["--report"] if report else [])]) == 0
    return out


class Page(HTMLParser):
    """What the tests read from a report: ids, section headings, figures, tables and metric cells."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.sections: dict[str, str] = {}
        self.figures: dict[str, int] = {}       # figure id -> number of <svg> inside
        self.tables: list[str] = []
        self.cells: list[dict] = []              # {metric, unit, text}
        self.srcs: list[str] = []
        self._section = self._figure = None
        self._h2 = False
        self._cell = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        for k in ("src", "href"):
            if k in a and not (a[k] or "").startswith("#"):
                self.srcs.append(a[k])
        if tag == "section":
            self._section = a.get("id")
        elif tag == "h2" and self._section:
            self._h2 = True
            self.sections[self._section] = ""
        elif tag == "figure":
            self._figure = a.get("id")
            self.figures[self._figure] = 0
        elif tag == "svg" and self._figure:
            self.figures[self._figure] += 1
        elif tag == "table":
            self.tables.append(a.get("id"))
        elif tag == "td" and "data-metric" in a:
            self._cell = {"metric": a["data-metric"], "unit": a.get("data-unit", ""), "text": ""}

    def handle_endtag(self, tag):
        if tag == "h2":
            self._h2 = False
        elif tag == "figure":
            self._figure = None
        elif tag == "td" and self._cell is not None:
            self.cells.append(self._cell)
            self._cell = None

    def handle_data(self, data):
        if self._h2:
            self.sections[self._section] += data
        if self._cell is not None:
            self._cell["text"] += data


def lookup(metrics: dict, dotted: str):
    node = metrics
    for part in dotted.split("."):
        node = node[part]
    return node


def check_cell(cell: dict, metrics: dict, currency: str) -> None:
    """A displayed figure equals its metrics.json value rounded to the shown decimals, with the
    rounding rules of issue 6 and a unit."""
    key, unit, text = cell["metric"], cell["unit"], cell["text"].strip()
    value = lookup(metrics, key)
    assert unit, f"{key}: no unit"
    if isinstance(value, bool):
        assert text == ("yes" if value else "no"), (key, text)
        return
    assert re.fullmatch(r"[+-]?\d{1,3}(,\d{3})*(\.\d+)?", text), f"{key}: {text!r} is not a rounded number"
    decimals = len(text.split(".")[1]) if "." in text else 0
    # shares are fractions in metrics.json and percent (or percentage points) on the page
    scale = 100.0 if unit in ("%", "pp") and "_pct" not in key else 1.0
    expected = f"{value * scale:,.{decimals}f}"
    shown = text.lstrip("+")
    assert float(shown.replace(",", "")) == float(expected.replace(",", "")), f"{key}: shows {text}, is {value}"
    if abs(value * scale) >= 1000:
        assert "," in text, f"{key}: {text} lacks thousands separators"
    # rounding rules: kW, kWh and money totals whole; bills to the cent; prices 4; shares 1 decimal
    rules = {"kW": 0, "kWh": 0, "kW/step": 0, currency: 0, f"{currency}/customer": 2, f"{currency}/kWh": 4,
             "pp": 1 if "_pct" not in key else 2}
    if unit in rules:
        assert decimals == rules[unit], f"{key}: {decimals} decimals in {unit}"
    if unit == "%" and "_pct" not in key:
        assert decimals == 1, f"{key}: share with {decimals} decimals"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Runs of the small scenario: A with critical-peak events, B without and another seed, C with the
    calibrated default behaviour (the commercial segment a cold store on two shifts) and a tariff menu
    with choice."""
    folder = tmp_path_factory.mktemp("report")
    menu = scenario_dict()
    menu["populations"][0]["behavior"] = menu["populations"][1]["behavior"] = "default"
    menu["populations"][1].update(sector="cold_storage", shifts=2)
    menu["populations"][0]["tariff"] = {"baseline": "flat", "scenario": [{"tariff": "tou", "share": 0.5},
                                                                         {"tariff": "flat", "share": 0.5}],
                                        "choice": {"review_probability": 0.5}}
    return {"a": make_run(folder, "a", events=True), "b": make_run(folder, "b", seed=12),
            "c": make_run(folder, "c", data=menu), "folder": folder}


def read(run: Path):
    text = (run / "report.html").read_text(encoding="utf-8")
    return text, Page(text), json.loads((run / "metrics.json").read_text()), \
        json.loads((run / "manifest.json").read_text())


def test_report_has_every_section_with_a_heading(runs):
    """Every section issue 6 lists is there, with an id and a heading, and in order."""
    text, page, _, _ = read(runs["a"])
    for sid in REQUIRED_SECTIONS:
        assert sid in page.sections, f"section {sid} missing"
        assert page.sections[sid].strip(), f"section {sid} has no heading"
    order = [s for s in page.sections if s in REQUIRED_SECTIONS]
    assert order == REQUIRED_SECTIONS
    assert len(page.ids) == len(set(page.ids)), "duplicate element ids (charts must prefix theirs)"


def test_every_chart_and_table_is_present(runs):
    _, page, _, _ = read(runs["a"])
    for fig in REQUIRED_FIGURES:
        assert page.figures.get(fig) == 1, f"figure {fig} has no inline SVG"
    for tab in REQUIRED_TABLES + ["tab-events", "tab-events-summary"]:
        assert tab in page.tables, f"table {tab} missing"


def test_numbers_equal_metrics_json(runs):
    """Every figure the report takes from metrics.json, in every table, equals it after rounding."""
    for run in (runs["a"], runs["b"], runs["c"]):
        _, page, metrics, manifest = read(run)
        cur = manifest["scenario"]["currency"]
        assert len(page.cells) > 150
        for cell in page.cells:
            check_cell(cell, metrics, cur)
        shown = {c["metric"] for c in page.cells}
        # the metrics table holds every system figure (charges no tariff has are left out)
        for key, v in metrics["baseline"].items():
            if key == "peak_time_index" or (key.startswith("revenue_") and not v and not metrics["scenario"][key]):
                continue
            assert f"baseline.{key}" in shown and f"scenario.{key}" in shown, key
        for key, v in metrics["change"].items():
            if isinstance(v, dict):                 # the equity figures: per segment, below
                continue
            if key.startswith("revenue_") and not v and not metrics["baseline"][key[:-len("_change")]]:
                continue
            if key.startswith("bill_change_p") and len(metrics["segments"]) > 1:
                continue  # money percentiles over all customers: per segment only in the report
            assert f"change.{key}" in shown, key
        for name, seg in metrics["segments"].items():
            for key in ("share_pay_more", "share_pay_less", "bill_change_mean", "bill_change_p5", "bill_change_p95",
                        "bill_change_pct_mean"):
                assert f"segments.{name}.change.{key}" in shown
            assert f"segments.{name}.baseline.margin" in shown and f"segments.{name}.scenario.revenue" in shown
            for key, v in seg["change"]["equity"].items():     # every equity figure of the segment
                if isinstance(v, (int, float)) and key not in ("customers", "customers_with_relative_change",
                                                               "bill_change_mean", "bill_change_pct_mean"):
                    assert f"segments.{name}.change.equity.{key}" in shown, key
            for key in ("revenue_change", "consumer_utility_change", "consumer_surplus_change", "margin_change",
                        "welfare_change"):                    # the consumer ledger by segment
                assert f"segments.{name}.change.{key}" in shown, key


def test_units_and_currency_are_shown(runs):
    text, page, _, _ = read(runs["a"])
    units = {c["unit"] for c in page.cells}
    assert {"kW", "kWh", "CNY", "CNY/customer", "%", "pp", "CNY/kWh"} <= units
    metrics_table = text[text.index('id="tab-metrics-system"'):text.index('id="tab-metrics-change"')]
    for unit in ("<td>kW</td>", "<td>kWh</td>", "<td>CNY</td>", "<td>CNY/kWh</td>"):
        assert unit in metrics_table


def test_report_is_self_contained(runs):
    """No network: no address, no external file, no script; SVG inline without prolog."""
    for run in (runs["a"], runs["b"]):
        text, page, _, _ = read(run)
        assert "http://" not in text and "https://" not in text
        assert all(s.startswith("data:") for s in page.srcs), page.srcs
        assert not re.search(r"<(script|link|img|iframe|object|embed)\b", text)
        assert "@import" not in text and not re.search(r"url\((?!#)", text)
        assert "<?xml" not in text and "<!DOCTYPE svg" not in text
        assert text.count("<svg") == sum(page.figures.values()) >= len(REQUIRED_FIGURES)


def test_report_prints_cleanly(runs):
    """Print CSS: a page break before each section, repeated table heads, nothing fixed."""
    text, _, _, _ = read(runs["a"])
    css = text[text.index("<style>"):text.index("</style>")]
    assert "@media print" in css and "@page" in css
    print_css = css[css.index("@media print"):]
    assert "break-before: page" in print_css and "display: table-header-group" in print_css
    assert "break-inside: avoid" in print_css
    assert "position: fixed" not in css and "position: sticky" not in css


def test_tariff_prices_and_schedule(runs):
    text, page, _, _ = read(runs["a"])
    tou = text[text.index('id="tariff-tou"'):text.index("</div>", text.index('id="fig-schedule-tou"'))]
    for price in ("0.9000", "0.5000", "0.2500"):
        assert price in tou
    assert "+0.6000 CNY/kWh" in tou and "2 listed (2 in the horizon)" in tou
    flat = text[text.index('id="tariff-flat"'):text.index('id="tariff-tou"')]
    assert "0.5000" in flat and "3.00 CNY/customer-month" in flat
    assert page.figures["fig-schedule-tou"] == 1


def test_event_log_and_no_events(runs):
    text, page, metrics, _ = read(runs["a"])
    rows = (runs["a"] / "events.csv").read_text().strip().splitlines()[1:]
    assert len(rows) == 2 and metrics["change"]["event_windows"] == 2
    log = text[text.index('id="tab-events"'):]
    log = log[:log.index("</table>")]
    assert log.count("<tr>") == 1 + len(rows)  # the head and one row per event
    assert "2024-02-22" in log and "18:00-20:00" in log
    text_b, page_b, _, _ = read(runs["b"])
    assert "No events in this run" in text_b and "tab-events" not in page_b.tables


def test_provenance_and_command(runs):
    text, _, _, manifest = read(runs["a"])
    prov = text[text.index('id="provenance"'):]
    assert manifest["scenario_hash"] in prov and manifest["code"]["git_commit"] in prov
    for pkg, version in manifest["packages"].items():
        if version:
            assert version in prov
    assert html.escape(shlex.join(manifest["command"])) in prov
    repro = html.unescape(re.search(r'<pre id="reproduce">(.*?)</pre>', prov).group(1))
    assert "--out" not in repro.split() and "--seed" in repro.split()


def test_assumptions_cite_sources(runs):
    text, _, _, _ = read(runs["a"])
    part = text[text.index('id="assumptions"'):text.index('id="provenance"')]
    assert "constant_elasticity" in part and "Labandeira" in part and "common random numbers" in part


def test_defaults_and_menu_choice(runs):
    """`behavior: default` is named as the calibrated default with its published sources and the
    calibration table; a menu with choice gets its switching table."""
    text, page, metrics, _ = read(runs["c"])
    assert {"tab-defaults", "tab-choice"} <= set(page.tables)
    part = text[text.index('id="assumptions"'):text.index('id="provenance"')]
    assert "Faruqui and Sergici 2017" in part and "Goldman" in part and "-0.103" in part
    if (Path(__file__).resolve().parents[1] / "docs" / "calibration.md").is_file():
        assert "tab-calibration" in page.tables
    pop = text[text.index('id="tab-population"'):text.index('id="load-curves"')]
    assert "default for residential (calibrated)" in pop and "menu: tou 50%, flat 50%" in pop
    # a sector's default is still named the default, with its flexible share and where it comes from
    assert "default for commercial cold_storage 2 shift(s) (calibrated)" in pop
    assert "For sector cold_storage and 2 shift(s): flexible share 0.8" in part and "docs/evidence_ci.md" in part
    assert {c["metric"] for c in page.cells} >= {"segments.res.choice.switched_share", "segments.res.choice.switches"}


def test_report_command_regenerates_atomically(runs, capsys):
    """`drsim report RUN` replaces report.html in the run folder, through a temporary file."""
    run = runs["b"]
    before = (run / "report.html").stat().st_mtime_ns
    assert main(["report", str(run)]) == 0
    assert f"report: {run / 'report.html'}" in capsys.readouterr().out.replace("\n", "")
    assert (run / "report.html").stat().st_mtime_ns >= before
    assert not list(run.glob(".report.html.partial-*"))


def test_report_out_file_is_not_overwritten(runs, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", str(runs["b"]), "--out", str(out)]) == 0 and out.stat().st_size > 10000
    assert main(["report", str(runs["b"]), "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["report", str(runs["b"]), "--out", str(out), "--force"]) == 0


def test_failed_report_keeps_the_run(tmp_path, monkeypatch, capsys):
    """`drsim run --report`: a report that fails costs the report, never the finished run."""
    import sim.report.html as report_html

    def broken(*a, **k):
        raise RuntimeError("chart exploded")

    monkeypatch.setattr(report_html, "build_report", broken)
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(scenario_dict(), sort_keys=False))
    out = tmp_path / "run"
    assert main(["run", str(path), "--out", str(out), "--quiet", "--report"]) == 1
    err = capsys.readouterr().err
    assert "report failed" in err and "chart exploded" in err and "kept" in err
    assert {"manifest.json", "metrics.json", "system_load.csv", "events.csv"} <= {p.name for p in out.iterdir()}
    assert not (out / "report.html").exists()


@pytest.mark.parametrize("make", ["missing", "empty", "no_metrics", "file", "bad_json"])
def test_bad_run_folder_is_exit_2(tmp_path, capsys, runs, make):
    """A folder that is not a finished run: one clear line, exit code 2, for report and compare."""
    bad = tmp_path / "bad"
    if make == "empty":
        bad.mkdir()
    elif make == "no_metrics":
        bad.mkdir()
        (bad / "manifest.json").write_text("{}")
    elif make == "file":
        bad.write_text("x")
    elif make == "bad_json":
        bad.mkdir()
        (bad / "manifest.json").write_text("{")
        (bad / "metrics.json").write_text("{}")
    for argv in (["report", str(bad)], ["compare", str(runs["a"]), str(bad)]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and str(bad) in err, err
        assert "Traceback" not in err


def test_compare_needs_two_runs(runs, capsys):
    assert main(["compare", str(runs["a"])]) == 2
    assert "at least two" in capsys.readouterr().err


def test_compare_in_the_terminal(runs, capsys):
    """The metrics side by side, with B - A and the relative difference."""
    assert main(["compare", str(runs["a"]), str(runs["b"])]) == 0
    out = capsys.readouterr().out
    a = json.loads((runs["a"] / "metrics.json").read_text())
    b = json.loads((runs["b"] / "metrics.json").read_text())
    assert "B - A" in out and "B - A [%]" in out
    pa, pb = a["scenario"]["peak_kw"], b["scenario"]["peak_kw"]
    line = next(ln for ln in out.splitlines() if "System peak" in ln)  # under the scenario tariffs
    diff = f"{pb - pa:+,.0f}" if round(pb - pa) else "0"
    assert f"{pa:,.0f}" in line and f"{pb:,.0f}" in line and diff in line
    assert f"{(pb - pa) / pa * 100:+.1f}" in line
    line = next(ln for ln in out.splitlines() if "Customers who pay more" in ln)
    assert f"{a['change']['share_pay_more'] * 100:.1f}" in line and " pp" in line
    line = next(ln for ln in out.splitlines() if re.search(r"\bRevenue\b", ln))
    assert f"{a['scenario']['revenue']:,.0f}" in line and f"{b['scenario']['revenue']:,.0f}" in line


def test_compare_html(runs, tmp_path, capsys):
    out = tmp_path / "cmp.html"
    assert main(["compare", str(runs["a"]), str(runs["b"]), str(runs["a"]), "--html", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text and "<script" not in text
    page = Page(text)
    assert "tab-compare" in page.tables and "tab-runs" in page.tables
    assert "C - A" in text
    for run, label in ((runs["a"], "A"), (runs["b"], "B")):
        metrics = json.loads((run / "metrics.json").read_text())
        cells = re.findall(rf'<td class="num" data-run="{label}" data-metric="([^"]+)" data-unit="([^"]*)">'
                           r'([^<]*)</td>', text)
        assert len(cells) > 20
        for key, unit, shown in cells:
            check_cell({"metric": key, "unit": html.unescape(unit), "text": shown}, metrics, "CNY")
    assert main(["compare", str(runs["a"]), str(runs["b"]), "--html", str(out)]) == 2  # never overwritten
    assert "exists" in capsys.readouterr().err


def test_report_api_without_cli(runs, tmp_path):
    """sim.report.write_report from Python; the default target is RUN/report.html."""
    from sim.report import SECTIONS, build_report

    text = build_report(runs["b"])
    assert [s for s, _ in SECTIONS if s in REQUIRED_SECTIONS] == REQUIRED_SECTIONS
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")


def test_winners_all_customers_row_pools_no_money_percentiles(runs):
    """Over several segments the "all customers" row of the winners table gives counts, shares and
    the mean change, but no percentiles of money that would rank households' and plants' bills
    together; each segment's row has them."""
    text, _, metrics, _ = read(runs["a"])
    assert len(metrics["segments"]) > 1
    table = text[text.index('id="tab-winners"'):]
    table = table[:table.index("</table>")]
    rows = table.split("<tr")[1:]  # the caption before the first row
    pooled = [r for r in rows if "all customers" in r]
    assert len(pooled) == 1
    assert 'data-metric="change.bill_change_mean"' in pooled[0]
    assert "bill_change_p50" not in pooled[0] and "bill_change_p5" not in pooled[0]
    for name in metrics["segments"]:
        own = [r for r in rows if f'data-metric="segments.{name}.change.bill_change_p50"' in r]
        assert len(own) == 1

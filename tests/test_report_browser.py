"""The report in a real browser: Debian's chromium, headless and offline.

How errors are caught (two independent ways, because neither alone sees everything):

1. A copy of report.html with a small probe script inserted first in ``<head>`` is opened
   with ``--dump-dom``. The probe records every ``error`` event in the capture phase (script
   errors *and* resources that fail to load), every ``console.error``/``console.warn``, and,
   on ``load``, every resource the page fetched (``performance.getEntriesByType('resource')``),
   each chart's SVG and each table with its rendered size; it writes them as JSON into a
   ``<pre id="__probe">`` that the dumped DOM carries back. The report itself has no script:
   the probe exists only in the test's copy.
2. The unmodified report is opened for the screenshot with ``--enable-logging=stderr --v=0``;
   chromium then logs every console message (``...:CONSOLE...``), and the test scans for them.

No network: besides the flags that stop chromium's own background traffic, a proxy on a
closed local port and a host resolver that resolves nothing make any fetch fail, and the
probe would record it. The screenshot (1280 x 4000) and a PDF printout are saved in the
test's tmp dir (set DRSIM_REPORT_SCREENSHOT=path.png to keep a copy of the screenshot).
Skipped, with the reason, only when no chromium is installed (`make browser` installs it).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .test_report import REQUIRED_FIGURES, REQUIRED_SECTIONS, REQUIRED_TABLES, make_run


def find_chromium() -> str | None:
    for name in (os.environ.get("DRSIM_CHROMIUM"), "chromium", "chromium-browser"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


CHROMIUM = find_chromium()

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not found: install Debian's chromium "
                                                        "(`make browser`, or apt-get install chromium)")

PROBE = """<script>
(function () {
  var probe = {errors: [], console: []};
  window.addEventListener('error', function (e) {
    probe.errors.push(String(e.message || (e.target && e.target.outerHTML) || e.type));
  }, true);
  ['error', 'warn'].forEach(function (k) {
    var f = console[k];
    console[k] = function () { probe.console.push(k + ': ' + Array.prototype.join.call(arguments, ' ')); f.apply(console, arguments); };
  });
  function size(el) { var r = el.getBoundingClientRect(); return [Math.round(r.width), Math.round(r.height)]; }
  window.addEventListener('load', function () {
    probe.resources = performance.getEntriesByType('resource').map(function (r) { return r.name; });
    probe.figures = Array.prototype.map.call(document.querySelectorAll('figure.chart'), function (f) {
      var svgs = f.querySelectorAll('svg');
      return {id: f.id, svgs: svgs.length, size: svgs.length ? size(svgs[0]) : [0, 0],
              elements: svgs.length ? svgs[0].querySelectorAll('*').length : 0,
              texts: svgs.length ? svgs[0].querySelectorAll('text').length : 0};
    });
    probe.tables = Array.prototype.map.call(document.querySelectorAll('table'), function (t) {
      return {id: t.id, rows: t.rows.length, size: size(t)};
    });
    probe.sections = Array.prototype.map.call(document.querySelectorAll('section'), function (s) { return s.id; });
    probe.height = document.documentElement.scrollHeight;
    var pre = document.createElement('pre');
    pre.id = '__probe';
    pre.textContent = JSON.stringify(probe);
    document.body.appendChild(pre);
  });
})();
</script>"""


def run_chromium(args: list[str], tmp: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-extensions", "--mute-audio", f"--user-data-dir={tmp / 'chromium-profile'}",
           "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
           "--enable-logging=stderr", "--v=0", *args]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "HOME": str(tmp)})
    except subprocess.TimeoutExpired:
        pytest.fail(f"chromium did not finish within {timeout} s: {' '.join(cmd)}")


def console_messages(stderr: str) -> list[str]:
    """Console messages and load failures chromium logged for the page (its own startup noise,
    such as a missing D-Bus, is not about the page and is ignored)."""
    return [ln for ln in stderr.splitlines()
            if ":CONSOLE" in ln or "Uncaught" in ln or "Failed to load resource" in ln or "net::ERR_" in ln]


def probe(page: Path, tmp: Path) -> dict:
    """Open an instrumented copy of ``page`` and return what the probe recorded."""
    text = page.read_text(encoding="utf-8")
    copy = tmp / f"probe-{page.name}"
    copy.write_text(text.replace("<head>", "<head>\n" + PROBE, 1), encoding="utf-8")
    res = run_chromium(["--dump-dom", copy.as_uri()], tmp)
    m = re.search(r'<pre id="__probe">(.*?)</pre>', res.stdout, flags=re.S)
    assert m, f"no probe output (exit {res.returncode}); stderr:\n{res.stderr[-3000:]}"
    data = json.loads(html.unescape(m.group(1)))
    data["console_log"] = console_messages(res.stderr)
    return data


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    return make_run(folder, "run", events=True)


def test_report_in_headless_chromium(run, tmp_path):
    """Every chart and table renders, nothing is fetched, and the page logs no error."""
    report = run / "report.html"
    source = report.read_text(encoding="utf-8")
    p = probe(report, tmp_path)
    assert p["errors"] == [], p["errors"]
    assert p["console"] == [] and p["console_log"] == [], (p["console"], p["console_log"])
    assert p["resources"] == [], f"the page fetched {p['resources']}"
    assert [s for s in p["sections"] if s in REQUIRED_SECTIONS] == REQUIRED_SECTIONS
    figures = {f["id"]: f for f in p["figures"]}
    assert len(p["figures"]) == source.count('<figure class="chart"') >= len(REQUIRED_FIGURES)
    for fid in REQUIRED_FIGURES:
        assert fid in figures, f"chart {fid} missing in the browser"
    for f in p["figures"]:
        w, h = f["size"]
        assert f["svgs"] == 1 and w > 300 and h > 80, f"chart {f['id']} not drawn: {f}"
        assert f["elements"] > 40 and f["texts"] > 3, f"chart {f['id']} is empty: {f}"
    tables = {t["id"]: t for t in p["tables"]}
    assert len(p["tables"]) == source.count("<table")
    for tid in REQUIRED_TABLES + ["tab-events"]:
        assert tid in tables, f"table {tid} missing in the browser"
    for t in p["tables"]:
        assert t["rows"] >= 2 and t["size"][0] > 50 and t["size"][1] > 20, f"table {t['id']} not laid out: {t}"
    assert p["height"] > 8000  # every section laid out, one under the other


def test_screenshot_and_console(run, tmp_path):
    """The unmodified report: a screenshot that is not blank, and no console message."""
    shot = tmp_path / "report.png"
    res = run_chromium([f"--screenshot={shot}", "--window-size=1280,4000", "--hide-scrollbars",
                        (run / "report.html").as_uri()], tmp_path)
    assert shot.is_file(), f"no screenshot (exit {res.returncode}): {res.stderr[-2000:]}"
    assert console_messages(res.stderr) == []
    from PIL import Image

    with Image.open(shot) as im:
        assert im.size == (1280, 4000)
        hist = im.convert("L").histogram()
        dark = sum(hist[:200]) / sum(hist)
        colours = len(im.convert("RGB").resize((320, 1000)).getcolors(1 << 20) or [])
    assert dark > 0.02 and colours > 50, f"the screenshot looks blank ({dark:.1%} ink, {colours} colours)"
    keep = os.environ.get("DRSIM_REPORT_SCREENSHOT")
    if keep:
        shutil.copyfile(shot, keep)
    print(f"screenshot: {shot}")


def test_prints_to_pdf_with_a_page_per_section(run, tmp_path):
    """Chromium's print to PDF: every section starts a page (print CSS), so there are at least
    as many pages as sections."""
    pdf = tmp_path / "report.pdf"
    res = run_chromium([f"--print-to-pdf={pdf}", "--no-pdf-header-footer", (run / "report.html").as_uri()],
                       tmp_path)
    assert pdf.is_file(), f"no PDF (exit {res.returncode}): {res.stderr[-2000:]}"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = max(int(n) for n in re.findall(rb"/Count (\d+)", data))
    assert pages >= len(REQUIRED_SECTIONS), f"{pages} pages for {len(REQUIRED_SECTIONS)} sections"


def test_compare_page_in_chromium(run, tmp_path):
    from sim.cli import main

    out = tmp_path / "compare.html"
    assert main(["compare", str(run), str(run), "--html", str(out)]) == 0
    p = probe(out, tmp_path)
    assert p["errors"] == [] and p["console"] == [] and p["console_log"] == [] and p["resources"] == []
    assert {"tab-runs", "tab-compare"} <= {t["id"] for t in p["tables"]}


#: Writes where the summary section and its tables are laid out (CSS pixels from the top of
#: the first screen) and the window's size into ``<pre id="__fold">``, once the page is loaded.
FOLD_PROBE = """<script>
window.addEventListener('load', function () {
  function box(el) { var r = el.getBoundingClientRect(); return {id: el.id, top: r.top, bottom: r.bottom, right: r.right}; }
  var s = document.getElementById('summary');
  var out = {width: window.innerWidth, height: window.innerHeight, scrollY: window.scrollY,
             summary: s ? box(s) : null,
             tables: s ? Array.prototype.map.call(s.querySelectorAll('table'), box) : []};
  var pre = document.createElement('pre');
  pre.id = '__fold';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""

#: The first screen the summary must fit in. [CSS px]
SCREEN = (1280, 900)


def fold(page_text: str, tmp: Path, name: str) -> dict:
    """Open ``page_text`` with the fold probe at 1280 x 900 and return what it recorded."""
    copy = tmp / name
    copy.write_text(page_text.replace("<head>", "<head>\n" + FOLD_PROBE, 1), encoding="utf-8")
    res = run_chromium(["--dump-dom", f"--window-size={SCREEN[0]},{SCREEN[1]}", "--hide-scrollbars", copy.as_uri()],
                       tmp)
    m = re.search(r'<pre id="__fold">(.*?)</pre>', res.stdout, flags=re.S)
    assert m, f"no fold probe output (exit {res.returncode}); stderr:\n{res.stderr[-3000:]}"
    return json.loads(html.unescape(m.group(1)))


def above_the_fold(box: dict) -> bool:
    """Inside the first 1280 x 900 screen. (``--dump-dom`` lays the page out 1280 wide, as the
    screenshot, but its window may be less tall; no element of the report depends on the
    window's height, so the boxes are those of the screenshot.)"""
    return 0 <= box["top"] and box["bottom"] <= SCREEN[1] and box["right"] <= SCREEN[0]


@pytest.fixture(scope="module")
def grouped_run(tmp_path_factory):
    """The two-segment run (households and shops), the households in income quintiles."""
    from .conftest import scenario_dict

    data = scenario_dict()
    data["populations"][0]["groups"] = {"attribute": "income", "consumption_correlation": 0.4,
                                        "shares": {"q1": 0.2, "q2": 0.2, "q3": 0.2, "q4": 0.2, "q5": 0.2}}
    return make_run(tmp_path_factory.mktemp("grouped"), "run", data=data)


def test_the_summary_fits_the_first_screen(grouped_run, tmp_path):
    """At 1280 x 900 the whole summary (who wins, who loses, the peak, revenue and welfare, for
    both segments of the run and the households' five income groups) is on the first screen,
    without scrolling: the layout measured in the browser, and the screenshot holds ink where
    the tables are. The same probe on a copy with a block pushing the summary down reports it
    below the fold (the check can fail)."""
    run = grouped_run
    text = (run / "report.html").read_text(encoding="utf-8")
    g = fold(text, tmp_path, "fold.html")
    assert (g["width"], g["scrollY"]) == (SCREEN[0], 0), g
    assert {t["id"] for t in g["tables"]} == {"tab-summary", "tab-summary-system"}, g
    for b in [g["summary"], *g["tables"]]:
        assert above_the_fold(b), f"{b['id']} is not on the first screen of {SCREEN}: {b}"
    segments = re.findall(r'<table id="tab-summary">.*?</table>', text, flags=re.S)[0]
    # a row per segment and per group
    assert segments.count('scope="row"') == 2 + 5 and 'res (residential)' in segments and "income q5" in segments

    pushed = text.replace('<section id="summary"', '<div style="height: 600px"></div><section id="summary"', 1)
    low = fold(pushed, tmp_path, "pushed.html")
    assert not above_the_fold(low["summary"]), low
    assert any(not above_the_fold(t) for t in low["tables"]), low

    shot = tmp_path / "first-screen.png"
    res = run_chromium([f"--screenshot={shot}", f"--window-size={SCREEN[0]},{SCREEN[1]}", "--hide-scrollbars",
                        (run / "report.html").as_uri()], tmp_path)
    assert shot.is_file(), f"no screenshot (exit {res.returncode}): {res.stderr[-2000:]}"
    from PIL import Image

    with Image.open(shot) as im:
        assert im.size == SCREEN
        grey = im.convert("L")
        for t in g["tables"]:                   # each table's box on the screenshot holds text
            crop = grey.crop((0, int(t["top"]), SCREEN[0], min(SCREEN[1], int(t["bottom"]))))
            hist = crop.histogram()
            assert sum(hist[:128]) / sum(hist) > 0.01, f"{t['id']} looks blank on the first screen"
    keep = os.environ.get("DRSIM_REPORT_FIRST_SCREEN")
    if keep:
        shutil.copyfile(shot, keep)

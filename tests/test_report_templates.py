"""The report's Jinja2 templates: shipped as package data, autoescaped, and complete.

The pages' content is checked by tests/test_report.py; here, what the move to templates
must keep: every template file is covered by pyproject's package data (so a non-editable
install has them), text from a run folder is escaped wherever it lands, and a template that
names a value the code does not give fails instead of printing nothing.
"""

from __future__ import annotations

import fnmatch
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import pytest

from sim.report import templating
from sim.report.html import build_report

from .conftest import scenario_dict
from .test_report import make_run

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "sim" / "report" / "templates"

HOSTILE = '<script>alert("x")</script> & <img src=x onerror=alert(1)> \'quoted\''


def test_package_data_covers_every_template():
    """pyproject's package-data patterns match every file of sim/report/templates (a file they
    miss would be absent from a wheel, and the report would fail only once installed)."""
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["sim.report"]
    files = [p.relative_to(TEMPLATES.parent).as_posix() for p in TEMPLATES.rglob("*") if p.is_file()]
    assert len(files) >= 18  # the page, the section base, 13 sections, the blocks, the style
    missed = [f for f in files if not any(fnmatch.fnmatchcase(f, pat) and f.count("/") == pat.count("/")
                                          for pat in patterns)]
    assert not missed, f"not in [tool.setuptools.package-data]: {missed}"


def test_environment_escapes_and_is_strict():
    env = templating.environment()
    assert env.autoescape is True and env.undefined is jinja2.StrictUndefined
    assert str(env.from_string("{{ x }}").render(x=HOSTILE)).count("<") == 0
    section = templating.Section("metrics", 8, "Metrics", "sections/metrics.html.j2")
    given = {"s": section, "blocks": [], "currency": "CNY", "step_minutes": 60}
    assert "60-minute step" in env.get_template(section.template).render(**given)
    with pytest.raises(jinja2.UndefinedError, match="step_minutes"):
        env.get_template(section.template).render(**{k: v for k, v in given.items() if k != "step_minutes"})


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    data = scenario_dict(description=HOSTILE)
    data["tariffs"]["tou"]["description"] = HOSTILE
    return make_run(tmp_path_factory.mktemp("hostile"), "hostile", data=data, report=False)


def test_run_folder_text_is_escaped_everywhere(hostile_run):
    """A description with markup shows as text (in the header, the scenario table and the
    tariff), never as elements: the page has no script or img element at all."""
    page = build_report(hostile_run)
    parsed = _Text()
    parsed.feed(page)
    assert "script" not in parsed.tags and "img" not in parsed.tags
    assert "".join(parsed.text).count(HOSTILE) == 3
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;img" in page


def test_css_is_written_as_is():
    """The style sheet is raw text in <style>: it is not escaped (its quoted font names stay quotes)."""
    page_css = templating.CSS
    assert '"DejaVu Sans"' in page_css and "@media print" in page_css
    rendered = str(templating.render("report.html.j2", run=_Stub(), sc={"name": "n", "seed": 1}, sections=[],
                                     first="", body="", generated=__import__("datetime").datetime(2026, 1, 1), version="v"))
    assert f"<style>{page_css}</style>" in rendered


class _Stub:
    """What the page template reads of a run folder, for a page without sections."""
    manifest = {"started_utc": "2026-01-01T00:00:00Z", "scenario_hash": "ab" * 32}
    days, step_minutes, currency = 7, 60, "CNY"
    path = Path("results/x/run")

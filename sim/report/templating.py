"""The report pages' templates: a Jinja2 environment over ``sim/report/templates`` and the
small records the templates render (cells, rows, tables, figures).

Every page is rendered with autoescaping on: text from a run folder (names, descriptions,
file paths, commands) is escaped wherever it lands. Only two kinds of values are marked
safe (:class:`markupsafe.Markup`): the SVG charts drsim draws (:mod:`sim.report.charts`)
and markup rendered by these templates themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from markupsafe import Markup, escape

from ..words import counted
from . import fmt

#: The page style, shared by every report page (templates/report.css).
CSS = "\n" + resources.files(__package__).joinpath("templates", "report.css").read_text(encoding="utf-8")


@cache
def environment():
    """The Jinja2 environment of the report templates (package data of ``sim.report``)."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader(__package__, "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.globals["CSS"] = CSS
    env.filters["counted"] = counted   # {{ n | counted("day") }}: "1 day", "2 days"
    return env


def render(template: str, **context) -> Markup:
    """A template rendered with ``context``, as markup."""
    return Markup(environment().get_template(template).render(**context))


def esc(x) -> str:
    """Text escaped for HTML (what the templates do to every value not marked safe)."""
    return str(escape(str(x)))


@dataclass
class Cell:
    """One table cell: ``td`` or ``th``, its text, and its class and attributes.

    ``metric`` and ``unit`` make it a figure of ``metrics.json`` (``data-metric``,
    ``data-unit``: tests/test_report.py checks every such cell against the run)."""

    text: Any = ""
    tag: str = "td"
    cls: str | None = None
    scope: str | None = None
    metric: str | None = None
    unit: str | None = None
    code: bool = False


def mcell(run, path: str, kind: str, *, signed: bool = False, change: bool = False) -> Cell:
    """A table cell holding one figure of ``metrics.json`` (dotted ``path``) of ``run`` (a
    :class:`sim.report.run.RunFolder`), rounded by ``kind`` (:mod:`sim.report.fmt`)."""
    try:
        value = run.metric(path)
    except (KeyError, TypeError):
        return Cell("n/a", cls="num")
    return Cell(fmt.number(value, kind, signed=signed), cls="num", metric=path,
                unit=fmt.unit(kind, run.currency, change=change))


#: An empty number cell.
BLANK = Cell("", cls="num")


def cell(text, num: bool = False, nowrap: bool = False) -> Cell:
    """A data cell: right-aligned number, or text kept on one line, or plain text."""
    return Cell(text, cls="num" if num else "nowrap" if nowrap else None)


def head(text) -> Cell:
    """A row's heading cell (``<th scope="row">``)."""
    return Cell(text, tag="th", scope="row")


@dataclass
class Row:
    cells: list[Cell]
    cls: str | None = None


@dataclass
class Table:
    """A table with a caption; the header cells of the number columns (``num_cols``, or every
    column from ``num_from`` on) are right-aligned like the numbers below them. ``rows`` are
    :class:`Row` records, or markup already rendered."""

    id: str
    caption: str
    header: list[str]
    rows: list[Any]
    num_from: int = 1
    num_cols: set[int] | None = None
    cls: str = ""
    kind = "table"

    @property
    def numeric(self) -> set[int]:
        return self.num_cols if self.num_cols is not None else set(range(self.num_from, len(self.header)))


@dataclass
class KeyValues:
    """A two-column table of names and values."""

    id: str
    caption: str
    items: list[tuple[str, Any]]
    kind = "kv"


@dataclass
class Figure:
    """A chart (SVG drawn by sim.report.charts) with its caption."""

    id: str
    svg: str
    caption: str
    kind = "figure"

    def __post_init__(self):
        self.svg = Markup(self.svg)  # drsim's own drawing: trusted


@dataclass
class Section:
    """A numbered section of a page: its id, heading, lede and body (template and context)."""

    id: str
    number: int
    title: str
    template: str
    context: dict = field(default_factory=dict)
    intro: str = ""


# The pieces rendered on their own, as text, for pages assembled in Python (the comparison
# and sweep pages): plain ``str``, so that adding them to other text never escapes it.


def table(table_id: str, caption: str, header: list[str], rows: list, *, num_from: int = 1,
          num_cols: set[int] | None = None, cls: str = "") -> str:
    """A table rendered on its own (``rows`` as :class:`Row` records or ready ``<tr>`` markup)."""
    rows = [r if isinstance(r, Row) else Markup(r) for r in rows]
    return str(render("blocks/table.html.j2", t=Table(table_id, caption, header, rows, num_from, num_cols, cls)))


def kv_table(table_id: str, caption: str, items: list[tuple[str, Any]]) -> str:
    """A key/value table rendered on its own."""
    return str(render("blocks/kv_table.html.j2", t=KeyValues(table_id, caption, items)))


def figure(fig_id: str, svg: str, caption: str) -> str:
    """A figure rendered on its own."""
    return str(render("blocks/figure.html.j2", f=Figure(fig_id, svg, caption)))

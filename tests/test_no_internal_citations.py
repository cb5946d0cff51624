"""No file of the project cites the developers' internal reading notes.

Those notes live in a folder beside the repository that users do not have; a fact taken from
them is cited by its original source (the paper, pilot report or tariff filing) instead. The
test reads every tracked text file (``git ls-files``; without git, the tree less ``.git``,
``.venv`` and ``results``) and names each offending file and line.
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: The notes folder, spelled in parts so that this file does not match itself.
_FOLDER = "shared" + "/"
#: Text that cites the notes: the folder's relative path, each notes file by path, and the
#: domain notes by file name.
PATTERNS = (
    ".." + "/" + _FOLDER,
    _FOLDER + "DOMAIN",
    _FOLDER + "DESIGN",
    _FOLDER + "STYLE",
    "DOMAIN" + ".md",
)
#: Folders never read when walking the tree without git.
SKIP_DIRS = {".git", ".venv", "results", "__pycache__"}


def offending_lines(text: str) -> list[tuple[int, str]]:
    """(line number from 1, line) of every line of ``text`` that contains one of ``PATTERNS``."""
    return [(n, line) for n, line in enumerate(text.splitlines(), start=1)
            if any(p in line for p in PATTERNS)]


def project_files() -> list[Path]:
    """The repository's tracked files that exist; without git, every file outside ``SKIP_DIRS``."""
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        files = []
        for root, dirs, names in os.walk(REPO):
            dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
            files += [Path(root) / name for name in names]
        return sorted(files)
    paths = [REPO / os.fsdecode(p) for p in out.split(b"\0") if p]
    return [p for p in paths if p.is_file()]


def read_text(path: Path) -> str | None:
    """The file's text, or None for a binary file (a NUL byte, or not UTF-8)."""
    data = path.read_bytes()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def test_matcher_finds_a_synthetic_citation():
    """The matcher flags a made-up offending line (so the scan below can fail) and no other."""
    bad = "# figure as quoted in " + ".." + "/" + "shared" + "/" + "DOMAIN" + ".md"
    assert offending_lines(f"first line\n{bad}\nlast line\n") == [(2, bad)]
    for pattern in PATTERNS:
        assert offending_lines(f"see {pattern} there") == [(1, f"see {pattern} there")]
    # An absolute output path that merely contains the word (docs/sweeps.md) is not a citation.
    assert offending_lines('out="/shared/sweeps/tou-sobol"\nshared memory\n') == []


def test_project_files_are_found():
    """The scan reads the repository itself (not an empty list), never .git or .venv."""
    files = project_files()
    assert REPO / "pyproject.toml" in files
    assert not any(p.relative_to(REPO).parts[0] in {".git", ".venv"} for p in files)


def test_no_file_cites_the_internal_notes():
    """No tracked text file contains the path of the internal notes folder or names its files."""
    hits = []
    for path in project_files():
        text = read_text(path)
        if text is None:
            continue
        hits += [f"{path.relative_to(REPO)}:{n}: {line.strip()}" for n, line in offending_lines(text)]
    assert not hits, ("cite the original source (paper, report, filing) instead of the internal "
                      "notes:\n" + "\n".join(hits))


def test_the_scan_reads_docs_scenarios_code_and_report_templates():
    """What users read is all scanned: the docs, every example scenario (its comments
    included: the whole file is read), the code, and the report's templates and style."""
    files = {p.relative_to(REPO).as_posix() for p in project_files()}
    for pattern in ("docs/*.md", "scenarios/*.yaml", "sim/report/templates/*.html.j2",
                    "sim/report/templates/sections/*.html.j2", "sim/report/templates/report.css",
                    "sim/report/sources.py", "README.md", "results/README.md"):
        matched = [f for f in files if fnmatch.fnmatchcase(f, pattern)]
        assert matched, f"the scan reads no file matching {pattern}"
    assert read_text(REPO / "scenarios" / "tou_peak_valley.yaml").lstrip().startswith("#")  # comments are text too

"""Fuzz the scenario format: mutated example scenarios must give exit code 0 or 2, never a
traceback, an internal error or a hang.

Each mutation starts from one of the example scenarios (``scenarios/*.yaml``) and changes
either its data (a field set to a hostile value: NaN, infinities, 1e308, huge integers,
far dates, long or formula-like text, wrong shapes; a key removed or added) or its text (cut
short, a control character, quote or bracket inserted, a line lost or repeated, an alias
bomb, deep nesting, bytes that are not UTF-8). Every mutated file goes through ``drsim
validate`` in a process of its own under a time and memory limit; a file that validates is
then run on a tiny copy (at most 3 days and 20 customers per segment, the same mutation
otherwise) with ``drsim run``.

Usage::

    python scripts/fuzz_scenarios.py --n 500 [--seed 0] [--jobs 2] [--keep DIR] [--no-run]

Prints one line per failure and a summary; exits 1 if any mutation failed. ``--keep DIR``
saves every failing file there, for reproduction (``drsim --debug validate FILE``).
The mutations are a pure function of ``--seed`` and the example files: :func:`mutations`
is also what the test suite draws from (tests/test_fuzz_scenarios.py).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sim.scenario.loader import YamlLoader  # noqa: E402  (the loader drsim reads scenarios with)

#: Limits of each drsim process: wall time [s] and address space [bytes].
VALIDATE_TIMEOUT_S = 60
RUN_TIMEOUT_S = 300
MEMORY_LIMIT_BYTES = 6 * 1024**3

HOSTILE_VALUES = [
    float("nan"), float("inf"), float("-inf"), 1e308, -1e308, 1e-320, 1e13, -1e13, 1e12, 0, -1, 0.5,
    10**30, 2**63, 2**64, 3660, 3661, 20_000_000, 20_000_001, "", " ", "x" * 300, "=1+1", "@SUM(A1)", "-cmd",
    "NaN", "9999-12-31", "0001-01-01", "2199-12-31", "24:00-24:00", "00-24", "25:00-26:00", None, True, [],
    {}, [[[[1]]]], {"a": {"b": None}}, "\u202e\u0000x", "ünïcødé", "a" * 65, [0.5] * 50,
]

INSERTS = ["\x00", "\x07", "\t", ":", "[", "{", "]", "&a ", "*a ", '"', "'", "\ufeff", "- ", "!!python/none ",
           "<<: *a\n", "\n  ", "%YAML 1.1\n", "---\n", "...\n", "? ", "|\n", ">-\n"]


@dataclass(frozen=True)
class Mutation:
    """One mutated scenario: its base file, what was done, and the text to write."""

    index: int
    base: str
    kind: str
    detail: str
    text: str | bytes


# --------------------------------------------------------------------------- mutations


def _examples() -> list[Path]:
    return sorted(SCENARIOS.glob("*.yaml"))


def _load(path: Path):
    return yaml.load(path.read_text(encoding="utf-8"), Loader=YamlLoader)


def _nodes(data, path=()):
    """Every (path, value) of a parsed document, the root included."""
    yield path, data
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _nodes(v, path + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _nodes(v, path + (i,))


def _set(data, path, value):
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def _dump(data) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)


def _data_mutation(rng: random.Random, data) -> tuple[str, str, object]:
    """Change one node of the parsed scenario; return (kind, detail, new data)."""
    data = copy.deepcopy(data)
    nodes = [(p, v) for p, v in _nodes(data) if p]
    kind = rng.choice(["leaf", "leaf", "leaf", "node", "delete", "unknown_key", "scale", "shape", "mild", "mild"])
    if kind == "mild":  # a plausible change, so that many mutations validate and run
        numbers = [(p, v) for p, v in nodes if isinstance(v, (int, float)) and not isinstance(v, bool)]
        path, old = rng.choice(numbers)
        value = rng.choice([0, old * rng.uniform(0, 3), old * 2, -old, round(old * rng.uniform(0.5, 1.5))])
        _set(data, path, value)
        return kind, f"{_dotted(path)} = {_short(value)}", data
    if kind in ("leaf", "scale"):
        leaves = [(p, v) for p, v in nodes if not isinstance(v, (dict, list))]
        if kind == "scale":
            leaves = [(p, v) for p, v in leaves if isinstance(v, (int, float)) and not isinstance(v, bool)] or leaves
        path, old = rng.choice(leaves)
        if kind == "scale" and isinstance(old, (int, float)):
            value = old * rng.choice([-1, 0, 10, 1e6, 1e12, 1e300, 1e-300, 2**40])
        else:
            value = rng.choice(HOSTILE_VALUES)
        _set(data, path, value)
        return kind, f"{_dotted(path)} = {_short(value)}", data
    if kind == "node":
        path, _ = rng.choice(nodes)
        value = rng.choice(HOSTILE_VALUES)
        _set(data, path, value)
        return kind, f"{_dotted(path)} = {_short(value)}", data
    if kind == "delete":
        keyed = [(p, v) for p, v in nodes if isinstance(p[-1], str)]
        path, _ = rng.choice(keyed)
        node = data
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
        return kind, f"del {_dotted(path)}", data
    if kind == "unknown_key":
        maps = [(p, v) for p, v in _nodes(data) if isinstance(v, dict)]
        path, node = rng.choice(maps)
        node[rng.choice(["zz_unknown", "colour", "prices_per_kwh", "Name"])] = rng.choice(HOSTILE_VALUES)
        return kind, f"{_dotted(path) or '(top)'} + unknown key", data
    lists = [(p, v) for p, v in nodes if isinstance(v, list) and v]  # shape: a list becomes its item, or empty
    if not lists:
        return _data_mutation(rng, data)
    path, value = rng.choice(lists)
    new = rng.choice([value[0], [], value * 3, {"item": value[0]}])
    _set(data, path, new)
    return kind, f"{_dotted(path)} reshaped", data


def _text_mutation(rng: random.Random, text: str) -> tuple[str, str, str | bytes]:
    kind = rng.choice(["truncate", "insert", "insert", "drop_line", "repeat_line", "alias_bomb", "deep",
                       "bytes", "recursive_alias"])
    if kind == "truncate":
        at = rng.randrange(len(text))
        return kind, f"cut at {at}", text[:at]
    if kind == "insert":
        at, what = rng.randrange(len(text)), rng.choice(INSERTS)
        return kind, f"{what!r} at {at}", text[:at] + what + text[at:]
    lines = text.splitlines(keepends=True)
    if kind in ("drop_line", "repeat_line"):
        i = rng.randrange(len(lines))
        lines[i:i + 1] = [] if kind == "drop_line" else [lines[i], lines[i]]
        return kind, f"line {i + 1}", "".join(lines)
    if kind == "alias_bomb":
        width = rng.choice([9, 10])
        bomb = ['zz0: &zz0 [' + ",".join(['"lol"'] * width) + "]"]
        bomb += [f"zz{k}: &zz{k} [" + ",".join([f"*zz{k - 1}"] * width) + "]" for k in range(1, 9)]
        return kind, f"{width} x 9 aliases", text + "\n" + "\n".join(bomb) + "\n"
    if kind == "recursive_alias":
        return kind, "a: &a [*a]", text + "\nzz: &zz [*zz]\n"
    if kind == "deep":
        depth = rng.choice([60, 500, 5000])
        return kind, f"{depth} levels", text + "\nzz: " + "[" * depth + "]" * depth + "\n"
    raw = text.encode("utf-8")
    at = rng.randrange(len(raw))
    junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    return "bytes", f"{junk!r} at byte {at}", raw[:at] + junk + raw[at:]


def mutations(n: int, seed: int = 0) -> list[Mutation]:
    """``n`` mutated scenarios, a pure function of ``seed`` and the example files."""
    rng = random.Random(seed)
    bases = [(p, p.read_text(encoding="utf-8"), _load(p)) for p in _examples()]
    out = []
    for i in range(n):
        path, text, data = rng.choice(bases)
        if rng.random() < 0.6:
            kind, detail, new = _data_mutation(rng, data)
            body: str | bytes = _dump(new)
        else:
            kind, detail, body = _text_mutation(rng, text)
        out.append(Mutation(i, path.name, kind, detail, body))
    return out


def tiny(text: str) -> str | None:
    """The same scenario at most 3 days long with at most 20 customers per segment, or None
    when its shape does not allow it (it is then not run)."""
    try:
        data = _load_text(text)
        days = data["horizon"]["days"]
        if isinstance(days, int) and not isinstance(days, bool):
            data["horizon"]["days"] = min(days, 3)
        for seg in data["populations"]:
            count = seg.get("count")
            if isinstance(count, int) and not isinstance(count, bool):
                seg["count"] = min(count, 20)
        return _dump(data)
    except Exception:  # a shape the clamp does not know: leave it to validate alone
        return None


def _load_text(text: str):
    return yaml.load(text, Loader=YamlLoader)


def _dotted(path) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# --------------------------------------------------------------------------- running


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))


def _drsim(args: list[str], timeout: float) -> tuple[int | None, str, float]:
    """Run drsim in a fresh process under the limits; (exit code or None on timeout, stderr, seconds)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-m", "sim.cli", *args], capture_output=True, text=True,
                              errors="replace", timeout=timeout, env=env, preexec_fn=_limits, cwd=ROOT)
    except subprocess.TimeoutExpired as e:
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        return None, err, time.perf_counter() - t0
    return proc.returncode, proc.stderr, time.perf_counter() - t0


def _verdict(code: int | None, err: str) -> str | None:
    """None when the outcome is acceptable, else what went wrong."""
    if code is None:
        return "timeout"
    if "Traceback" in err:
        return f"traceback (exit {code})"
    if "internal error" in err:
        return f"internal error (exit {code})"
    if code not in (0, 2):
        return f"exit {code}"
    return None


def check(m: Mutation, work: Path, run: bool) -> dict:
    """Validate one mutation (and run a tiny copy if it validates); the outcome as a record."""
    folder = work / f"m{m.index:04d}"
    folder.mkdir()
    (folder / "data").symlink_to(SCENARIOS / "data")  # relative csv: paths resolve as in scenarios/
    path = folder / m.base
    path.write_bytes(m.text if isinstance(m.text, bytes) else m.text.encode("utf-8"))
    code, err, secs = _drsim(["validate", str(path)], VALIDATE_TIMEOUT_S)
    rec = {"index": m.index, "base": m.base, "kind": m.kind, "detail": m.detail, "validate": code,
           "validate_s": round(secs, 2), "problem": _verdict(code, err), "stderr": err[-2000:], "run": None}
    if rec["problem"] is None and code == 0 and run and isinstance(m.text, str):
        small = tiny(m.text)
        if small is not None:
            run_path = folder / f"tiny_{m.base}"
            run_path.write_text(small, encoding="utf-8")
            code, err, secs = _drsim(["run", str(run_path), "--out", str(folder / "run"), "--quiet"], RUN_TIMEOUT_S)
            rec.update(run=code, run_s=round(secs, 2), problem=_verdict(code, err), stderr=err[-2000:])
    shutil.rmtree(folder / "run", ignore_errors=True)
    return rec


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=500, help="number of mutations (default 500)")
    p.add_argument("--seed", type=int, default=0, help="seed of the mutations (default 0)")
    p.add_argument("--jobs", type=int, default=1, help="mutations checked at once (default 1)")
    p.add_argument("--no-run", action="store_true", help="validate only; do not run the tiny copies")
    p.add_argument("--keep", help="folder to copy every failing mutation into")
    p.add_argument("--json", help="write every outcome to this JSON file")
    args = p.parse_args(argv)
    muts = mutations(args.n, args.seed)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="drsim-fuzz-") as tmp:
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            recs = list(pool.map(lambda m: check(m, Path(tmp), not args.no_run), muts))
        bad = [r for r in recs if r["problem"]]
        if args.keep and bad:
            keep = Path(args.keep)
            keep.mkdir(parents=True, exist_ok=True)
            for r in bad:
                m = muts[r["index"]]
                (keep / f"m{m.index:04d}_{m.base}").write_bytes(
                    m.text if isinstance(m.text, bytes) else m.text.encode("utf-8"))
    for r in bad:
        last = r["stderr"].strip().splitlines()[-1:] or [""]
        print(f"FAIL m{r['index']:04d} {r['base']} {r['kind']} ({r['detail']}): {r['problem']}: {last[0][:200]}")
    validate = Counter(r["validate"] for r in recs)
    runs = Counter(r["run"] for r in recs if r["run"] is not None)
    slowest = max(r["validate_s"] for r in recs)
    summary = {"mutations": len(recs), "seed": args.seed, "validate_exit_codes": dict(validate),
               "tiny_runs": sum(runs.values()), "run_exit_codes": dict(runs), "failures": len(bad),
               "slowest_validate_s": slowest, "wall_s": round(time.perf_counter() - t0, 1),
               "kinds": dict(Counter(r["kind"] for r in recs))}
    print(json.dumps(summary, default=str))
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "outcomes": recs}, indent=1, default=str) + "\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

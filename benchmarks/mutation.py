"""Mutation testing of ``optimizers/``: how many small, deliberate bugs does the test suite catch?

    python benchmarks/mutation.py [--n 240] [--seed 0] [--jobs 2] [--module PATTERN]
                                  [--only ID [ID ...]] [--list] [--fail-under RATE] [--out DIR]

Each *mutant* is a copy of one file of ``optimizers/`` with a single small edit (an operator
swapped, a comparison flipped, a constant changed, an update dropped). The tests that exercise
that file are run against it: if one fails the mutant is *killed*, if all pass it *survived*,
and a survivor points at behaviour that no test pins down (or at an edit that changes nothing,
an *equivalent* mutant, listed with its reason in ``benchmarks/mutation_equivalent.json``).

How it works (details in ``docs/mutation.md``):

1. every ``optimizers/**/*.py`` except ``__init__.py`` is parsed (the optimizer registry,
   test metadata, lives in ``tests/optim_registry/`` and is not mutated); docstrings, ``__repr__`` bodies, f-strings, type annotations,
   string building and the arguments of ``raise`` (error messages) are skipped;
2. the mutants of all files are listed in sorted order and a fixed-seed sample is drawn
   (``random.Random(seed).sample``), so a run is reproducible;
3. each mutant runs the test selection of its module (``TEST_MAP`` below) with
   ``python -m pytest -x -q``, in a private copy of the project per worker, with a timeout of
   max(60 s, 5 x the time of the same selection on the unmutated code);
4. the summary, the list of survivors and ``report.json`` / ``survivors.md`` go to
   ``results/mutation/``.

Only the standard library is used.
"""
from __future__ import annotations

import argparse
import ast
import bisect
import concurrent.futures
import fnmatch
import glob
import io
import json
import os
import queue
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tokenize
from dataclasses import asdict, dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "optimizers"
EQUIVALENT_FILE = os.path.join("benchmarks", "mutation_equivalent.json")
#: not copied into the workers' copies of the project
COPY_IGNORE = (".git", ".venv", ".ci-venv", "results", "__pycache__", ".hypothesis",
               ".pytest_cache", ".ruff_cache", "mutants")
#: a mutant's tests may take this many times as long as on the unmutated code ...
TIMEOUT_FACTOR = 5.0
#: ... and never less than this many seconds
TIMEOUT_MIN = 60.0
PYTEST_ARGS = ["-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
               "--hypothesis-seed=0"]

# --------------------------------------------------------------------------- the test map
# Which tests exercise which module: the tests whose own code runs lines of the module (checked
# with a coverage run that records the test of every executed line), not every test that
# imports it (``import optimizers`` imports every module). Entries are folders or glob patterns
# relative to the repository root, expanded when the script starts: a test file added later to
# a listed folder (or matching a listed pattern) is picked up without editing this table.
# tests/experiments/ (slow end-to-end runs of the experiments) is left out on purpose. Within a
# selection pytest runs the entries in the order given, and ``-x`` stops at the first failure,
# so the tests aimed at a module come first.
#
# tests/optimizers/ and tests/schedules/test_schedules_in_optimizers.py run every optimizer
# registered in tests/optim_registry/: all first-order methods, the geometry methods
# (SteepestDescent, NormalizedGD, Muon, Shampoo, Sophia) and BFGS / L-BFGS with a fixed step.
# tests/parity/test_trajectory_parity.py pins every step()-driven optimizer's iterates bit for
# bit against recorded trajectories, so any change of an update's arithmetic fails there.
REGISTERED = ["tests/optimizers/", "tests/schedules/test_schedules_in_optimizers.py",
              "tests/parity/test_trajectory_parity.py"]
#: the non-finite policy of every method, Newton and the zero-order ones included
NONFINITE = ["tests/optimizers/test_optim_nonfinite.py"]
#: the lectures' claims checked on SGD (gradient descent, mini-batches) and Momentum
CLAIMS_FIRST_ORDER = ["tests/claims/test_claims_gd.py", "tests/claims/test_claims_minibatch.py",
                      "tests/claims/test_claims_momentum.py", "tests/claims/test_claims_sgd.py"]
#: the lectures' claims checked on zero-order GD
CLAIMS_ZERO_ORDER = ["tests/claims/test_claims_zero_order.py"]
#: Newton's method (functional and as an optimizer)
NEWTON = ["tests/geometry/test_curv_newton*.py"]
#: minimize() with every method, and the quasi-Newton / zero-order methods on every backend
MINIMIZE = ["tests/second_order/test_qn_minimize.py", "tests/zero_order/test_zo_qn_backends.py"]
#: every test that runs optimizer code (the base class, the checks and the non-finite policy
#: are used by all methods)
EVERYTHING = REGISTERED + ["tests/geometry/", "tests/claims/", "tests/second_order/",
                           "tests/zero_order/"]

#: (module pattern, test entries); the first pattern that matches a module's path wins
TEST_MAP: list[tuple[str, list[str]]] = [
    ("optimizers/base.py", EVERYTHING),
    ("optimizers/_validate.py", EVERYTHING),
    ("optimizers/nonfinite.py", EVERYTHING),
    # first-order methods
    ("optimizers/sgd.py", REGISTERED + CLAIMS_FIRST_ORDER),
    ("optimizers/adam.py", REGISTERED + ["tests/geometry/test_geom_muon.py"]),  # Muon's AdamW
    ("optimizers/sign.py", ["tests/geometry/test_geom_steepest.py"] + REGISTERED),
    # geometry and curvature
    ("optimizers/norms.py", ["tests/geometry/test_geom_norms.py",
                             "tests/geometry/test_geom_steepest.py"] + REGISTERED),
    ("optimizers/steepest.py", ["tests/geometry/test_geom_steepest.py"] + REGISTERED),
    ("optimizers/newton_schulz.py", ["tests/geometry/test_geom_newton_schulz.py",
                                     "tests/geometry/test_geom_muon.py",
                                     "tests/geometry/test_geom_norms.py"] + REGISTERED),
    ("optimizers/muon.py", ["tests/geometry/test_geom_muon.py"] + REGISTERED),
    ("optimizers/shampoo.py", ["tests/geometry/test_geom_shampoo.py"] + REGISTERED),
    ("optimizers/sophia.py", ["tests/geometry/test_curv_sophia.py"] + REGISTERED),
    # Newton, line searches, quasi-Newton, minimize
    ("optimizers/second_order/newton.py", NEWTON + ["tests/second_order/test_qn_minimize.py"]
     + NONFINITE),
    # trust-ncg is no registered optimizer: its tests are minimize's
    ("optimizers/second_order/trust_ncg.py", ["tests/second_order/"] + MINIMIZE),
    ("optimizers/second_order/*.py", ["tests/second_order/"] + MINIMIZE + REGISTERED),
    ("optimizers/line_search.py", ["tests/second_order/"] + NEWTON + ["tests/zero_order/"]
     + REGISTERED),
    ("optimizers/armijo.py", ["tests/second_order/"] + NEWTON + ["tests/zero_order/"]
     + REGISTERED),
    ("optimizers/wolfe.py", ["tests/second_order/"] + NEWTON + ["tests/zero_order/"]
     + REGISTERED),
    ("optimizers/scalar_search.py", ["tests/second_order/"] + NEWTON + ["tests/zero_order/"]
     + REGISTERED),
    ("optimizers/objective.py", ["tests/second_order/"] + NEWTON + ["tests/zero_order/"]
     + REGISTERED),
    ("optimizers/vector_optimizer.py", ["tests/second_order/"] + NEWTON + ["tests/zero_order/"]
     + REGISTERED),
    ("optimizers/results.py", ["tests/second_order/"] + NEWTON + ["tests/zero_order/"]
     + CLAIMS_ZERO_ORDER),
    ("optimizers/minimize.py", ["tests/second_order/"] + NEWTON + ["tests/zero_order/"]
     + CLAIMS_ZERO_ORDER),
    # zero-order methods (minimize's tests run each of them too)
    ("optimizers/zero_order/zo_gd.py", ["tests/zero_order/"] + CLAIMS_ZERO_ORDER + MINIMIZE
     + NONFINITE),
    ("optimizers/zero_order/estimators.py", ["tests/zero_order/"] + CLAIMS_ZERO_ORDER
     + MINIMIZE + NONFINITE),
    ("optimizers/zero_order/*.py", ["tests/zero_order/"] + MINIMIZE + NONFINITE),
    # every other module (adagrad, rmsprop, adadelta, adabound, naggs, sam, lookahead,
    # wrapper, variance_reduced, ...): the generic tests of the registry
    ("optimizers/*.py", REGISTERED),
]


#: the fast tests that pin documented behaviour of the whole package (defaults, boundaries,
#: counters, hand-computed steps of every method), run first for every module: short files
#: that touch many modules at once, so they come before the module's own selection
PINNED = ["tests/*/test_*_pins.py", "tests/*/test_*_gaps.py"]


def tests_for(module: str) -> list[str]:
    """The test entries of ``module`` (a path such as ``optimizers/adam.py``): the pinned
    tests, then its entry of ``TEST_MAP``."""
    for pattern, entries in TEST_MAP:
        if fnmatch.fnmatch(module, pattern):
            return PINNED + entries
    raise SystemExit(f"no entry of TEST_MAP matches {module}")


def expand(entries: list[str]) -> tuple[str, ...]:
    """Folders and glob patterns to the existing paths they name, in the order given, without
    repeats and without files already inside a listed folder."""
    paths: list[str] = []
    for entry in entries:
        matches = sorted(glob.glob(os.path.join(ROOT, entry)))
        if not matches:
            raise SystemExit(f"TEST_MAP entry {entry!r} matches no file")
        for m in matches:
            rel = os.path.relpath(m, ROOT).replace(os.sep, "/") + ("/" if os.path.isdir(m) else "")
            if rel not in paths:
                paths.append(rel)
    folders = [p for p in paths if p.endswith("/")]
    return tuple(p for p in paths if not any(p != f and p.startswith(f) for f in folders))


# --------------------------------------------------------------------------- mutation sites
BINOP = {ast.Add: ("+", ast.Sub, "-"), ast.Sub: ("-", ast.Add, "+"),
         ast.Mult: ("*", ast.Div, "/"), ast.Div: ("/", ast.Mult, "*"),
         ast.Pow: ("**", ast.Mult, "*"), ast.FloorDiv: ("//", ast.Div, "/"),
         ast.Mod: ("%", ast.Mult, "*")}
CMPOP = {ast.Lt: ("<", ast.LtE, "<="), ast.LtE: ("<=", ast.Lt, "<"),
         ast.Gt: (">", ast.GtE, ">="), ast.GtE: (">=", ast.Gt, ">"),
         ast.Eq: ("==", ast.NotEq, "!="), ast.NotEq: ("!=", ast.Eq, "=="),
         ast.Is: ("is", ast.IsNot, "is not"), ast.IsNot: ("is not", ast.Is, "is"),
         ast.In: ("in", ast.NotIn, "not in"), ast.NotIn: ("not in", ast.In, "in")}
BOOLOP = {ast.And: ("and", ast.Or, "or"), ast.Or: ("or", ast.And, "and")}
AUGOP = {ast.Add: "+=", ast.Sub: "-=", ast.Mult: "*=", ast.Div: "/=", ast.Pow: "**=",
         ast.FloorDiv: "//=", ast.Mod: "%=", ast.MatMult: "@=", ast.BitOr: "|=",
         ast.BitAnd: "&=", ast.BitXor: "^=", ast.LShift: "<<=", ast.RShift: ">>="}


@dataclass
class Mutant:
    id: str            # "optimizers/adam.py:87:12:binop:Add->Sub"
    path: str          # "optimizers/adam.py"
    line: int          # 1-based line of the edit
    col: int           # 0-based column (characters) of the edit
    op: str            # binop, compare, const, augassign, boolop, unary
    change: str        # "Add->Sub"
    start: int         # the edit replaces source[start:end] (character offsets) ...
    end: int
    new: str           # ... by this text

    @property
    def label(self) -> str:
        return f"{self.path}:{self.line}:{self.col} {self.op} {self.change}"


class Source:
    """A file's text with the conversions the AST needs: AST columns count UTF-8 bytes, edits
    work on character offsets; tokens give the exact place of an operator."""

    def __init__(self, path: str, text: str):
        self.path, self.text = path, text
        self.lines = text.splitlines(keepends=True)
        self.line_start = [0]
        for line in self.lines:
            self.line_start.append(self.line_start[-1] + len(line))
        # (start, end, text) of every operator and name token, in character offsets
        self.tokens = [(self.line_start[t.start[0] - 1] + t.start[1],
                        self.line_start[t.end[0] - 1] + t.end[1], t.string)
                       for t in tokenize.generate_tokens(io.StringIO(text).readline)
                       if t.type in (tokenize.OP, tokenize.NAME)]

    def offset(self, lineno: int, col_bytes: int) -> int:
        """Character offset of an AST position (1-based line, column in UTF-8 bytes)."""
        line = self.lines[lineno - 1]
        return self.line_start[lineno - 1] + len(line.encode()[:col_bytes].decode())

    def start(self, node) -> int:
        return self.offset(node.lineno, node.col_offset)

    def end(self, node) -> int:
        return self.offset(node.end_lineno, node.end_col_offset)

    def position(self, offset: int) -> tuple[int, int]:
        """(1-based line, 0-based character column) of a character offset."""
        lo, hi = 0, len(self.lines)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if self.line_start[mid] <= offset else (lo, mid)
        return lo + 1, offset - self.line_start[lo]

    def find(self, words: str, lo: int, hi: int) -> tuple[int, int]:
        """The token(s) ``words`` (``"+"``, ``"not in"``) between offsets lo and hi (the gap
        between two operands, which may also hold brackets, spaces and comments)."""
        parts = words.split()
        first = bisect.bisect_left(self.tokens, (lo,))
        inside = []
        for t in self.tokens[first:]:
            if t[1] > hi:
                break
            inside.append(t)
        for i in range(len(inside) - len(parts) + 1):
            if [t[2] for t in inside[i:i + len(parts)]] == parts:
                return inside[i][0], inside[i + len(parts) - 1][1]
        raise ValueError(f"{self.path}: operator {words!r} not found in "
                         f"{self.text[lo:hi]!r}")


def _is_str(node) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant)
                                               and isinstance(node.value, (str, bytes)))


def _skipped_nodes(tree) -> set[int]:
    """ids of the nodes whose subtrees are not mutated: docstrings, ``__repr__`` bodies,
    f-strings, error messages (the exception built by ``raise``, an ``assert``'s message),
    type annotations."""
    skip = set()

    def mark(node):
        if node is not None:
            skip.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name == "__repr__":
                mark(node)
            mark(node.returns)
        elif isinstance(node, ast.arg):
            mark(node.annotation)
        elif isinstance(node, ast.AnnAssign):
            mark(node.annotation)
        elif isinstance(node, ast.JoinedStr):
            mark(node)
        elif isinstance(node, ast.Raise):
            mark(node.exc)
            mark(node.cause)
        elif isinstance(node, ast.Assert):
            mark(node.msg)
        elif isinstance(node, ast.Expr) and _is_str(node.value):
            mark(node)  # docstrings (and any other bare string)
    return skip


def _constant_variants(value) -> list:
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [1] if value == 0 else [0, 2] if value == 1 else [value + 1]
    if isinstance(value, float):
        return [1.0] if value == 0 else [0.0, 2.0] if value == 1 else [value * 2]
    return []


def mutants_of(path: str, text: str) -> list[Mutant]:
    """Every mutant of one file (``path`` relative to the repository root)."""
    src = Source(path, text)
    tree = ast.parse(text, filename=path)
    skip = _skipped_nodes(tree)
    found: list[Mutant] = []

    def add(op, change, start, end, new, at=None):
        line, col = src.position(start if at is None else at)
        found.append(Mutant(f"{path}:{line}:{col}:{op}:{change}", path, line, col, op, change,
                            start, end, new))

    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.BinOp) and type(node.op) in BINOP:
            if _is_str(node.left) or _is_str(node.right):
                continue  # string building ("..." % x, name + "[0]"), not arithmetic
            old, new_cls, new = BINOP[type(node.op)]
            a, b = src.find(old, src.end(node.left), src.start(node.right))
            add("binop", f"{type(node.op).__name__}->{new_cls.__name__}", a, b, new)
        elif isinstance(node, ast.Compare):
            lefts = [node.left] + node.comparators[:-1]
            for left, op, right in zip(lefts, node.ops, node.comparators):
                old, new_cls, new = CMPOP[type(op)]
                a, b = src.find(old, src.end(left), src.start(right))
                add("compare", f"{type(op).__name__}->{new_cls.__name__}", a, b, new)
        elif isinstance(node, ast.BoolOp):
            # every operator of the expression is swapped: `a and b and c` -> `a or b or c`
            old, new_cls, new = BOOLOP[type(node.op)]
            spans = [src.find(old, src.end(x), src.start(y))
                     for x, y in zip(node.values, node.values[1:])]
            s, e = spans[0][0], spans[-1][1]
            pieces, last = [], s
            for a, b in spans:
                pieces += [text[last:a], new]
                last = b
            add("boolop", f"{type(node.op).__name__}->{new_cls.__name__}", s, e, "".join(pieces))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
            old = "-" if isinstance(node.op, ast.USub) else "not"
            a, b = src.find(old, src.start(node), src.start(node.operand))
            add("unary", f"{type(node.op).__name__}->none", a, b, "")
        elif isinstance(node, ast.Constant) and type(node.value) in (bool, int, float):
            for value in _constant_variants(node.value):
                add("const", f"{node.value!r}->{value!r}", src.start(node), src.end(node),
                    repr(value))
        elif isinstance(node, ast.AugAssign):
            s, e = src.start(node), src.end(node)
            add("augassign", "drop", s, e, "pass")
            old = AUGOP[type(node.op)]
            a, b = src.find(old, src.end(node.target), src.start(node.value))
            add("augassign", f"{old}->=", a, b, "=")
    return found


def module_files(pattern: str | None) -> list[str]:
    """The mutated files: ``optimizers/**/*.py`` without ``__init__.py``, restricted to paths matching ``pattern`` (a glob or a substring) when one is given."""
    files = []
    for p in sorted(glob.glob(os.path.join(ROOT, PACKAGE, "**", "*.py"), recursive=True)):
        rel = os.path.relpath(p, ROOT).replace(os.sep, "/")
        name = os.path.basename(rel)
        if name == "__init__.py":
            continue
        if pattern and not (fnmatch.fnmatch(rel, pattern) or pattern in rel):
            continue
        files.append(rel)
    return files


def all_mutants(files: list[str], sources: dict[str, str]) -> list[Mutant]:
    found = []
    for rel in files:
        found += mutants_of(rel, sources[rel])
    ids = [m.id for m in found]
    if len(ids) != len(set(ids)):
        raise SystemExit("mutant ids are not unique")
    return sorted(found, key=lambda m: m.id)


def mutated_text(m: Mutant, text: str) -> str:
    return text[:m.start] + m.new + text[m.end:]


def changed_lines(m: Mutant, text: str) -> tuple[str, str]:
    """The source line(s) of the edit, before and after."""
    new_text = mutated_text(m, text)
    a = text.rfind("\n", 0, m.start) + 1
    b_old = text.find("\n", m.end)
    b_old = len(text) if b_old < 0 else b_old
    b_new = b_old + len(new_text) - len(text)
    return text[a:b_old].strip(), new_text[a:b_new].strip()


# --------------------------------------------------------------------------- running
def copy_project(dest: str) -> None:
    shutil.copytree(ROOT, dest, ignore=shutil.ignore_patterns(*COPY_IGNORE), symlinks=True)


def run_pytest(workdir: str, selection: tuple[str, ...], timeout: float | None):
    """(status, seconds, last lines of output) of one pytest run in ``workdir``:
    ``passed``, ``failed`` or ``timeout``."""
    env = dict(os.environ, PYTHONPATH=workdir, PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTEST_ADDOPTS", None)
    cmd = [sys.executable, "-m", "pytest", *PYTEST_ARGS, *selection]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=workdir, env=env, timeout=timeout, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              start_new_session=True)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout or ""
        out = out.decode(errors="replace") if isinstance(out, bytes) else out
        return "timeout", time.perf_counter() - t0, out[-2000:]
    finally:
        shutil.rmtree(os.path.join(workdir, ".hypothesis"), ignore_errors=True)
    status = "passed" if proc.returncode == 0 else "failed"
    return status, time.perf_counter() - t0, proc.stdout[-2000:]


class Workers:
    """``jobs`` private copies of the project; a task borrows one copy while it runs."""

    def __init__(self, jobs: int):
        self.base = tempfile.mkdtemp(prefix="mutation-")
        self.free: queue.Queue[str] = queue.Queue()
        for i in range(jobs):
            d = os.path.join(self.base, f"w{i}")
            copy_project(d)
            self.free.put(d)

    def run(self, fn, *args):
        d = self.free.get()
        try:
            return fn(d, *args)
        finally:
            self.free.put(d)

    def close(self):
        shutil.rmtree(self.base, ignore_errors=True)


def baseline(workdir: str, selection: tuple[str, ...]) -> float:
    status, seconds, out = run_pytest(workdir, selection, timeout=None)
    if status != "passed":
        raise RuntimeError(f"the unmutated code fails the selection {' '.join(selection)}:\n{out}")
    return seconds


def run_mutant(workdir: str, m: Mutant, original: str, selection, timeout: float) -> dict:
    target = os.path.join(workdir, m.path)
    with open(target, "w", encoding="utf-8") as f:
        f.write(mutated_text(m, original))
    try:
        status, seconds, out = run_pytest(workdir, selection, timeout)
    finally:
        with open(target, "w", encoding="utf-8") as f:
            f.write(original)
    status = {"passed": "survived", "failed": "killed"}.get(status, status)
    result = {"status": status, "seconds": round(seconds, 2), "output": out}
    if status == "killed":  # pytest's summary line of the first failure (``-ra``)
        first = [ln for ln in out.splitlines() if ln.startswith(("FAILED ", "ERROR "))]
        result["killed_by"] = first[0] if first else (out.strip().splitlines() or [""])[-1]
    return result


# --------------------------------------------------------------------------- report
def summarise(results: list[dict], equivalent: dict[str, str]) -> dict:
    n = len(results)
    count = {s: sum(r["status"] == s for r in results) for s in ("killed", "timeout", "survived")}
    eq = sum(r["status"] == "survived" and r["id"] in equivalent for r in results)
    killed = count["killed"] + count["timeout"]   # a timeout counts as killed
    return {"total": n, "killed": killed, "timed_out": count["timeout"],
            "survived": count["survived"], "equivalent_survivors": eq,
            "kill_rate": killed / n if n else None,
            "kill_rate_non_equivalent": killed / (n - eq) if n - eq else None}


def write_report(out_dir: str, header: dict, summary: dict, results: list[dict],
                 equivalent: dict[str, str]) -> None:
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "report.json"), "w", encoding="utf-8") as f:
        json.dump({**header, "summary": summary,
                   "mutants": [{k: v for k, v in r.items() if k != "output" or
                                r["status"] != "killed"} for r in results]}, f, indent=1)
    lines = ["# Surviving mutants", "",
             f"{summary['survived']} of {summary['total']} mutants survived "
             f"(seed {header['seed']}, sample of {header['sampled']} from "
             f"{header['total_mutants']}); kill rate {_pct(summary['kill_rate'])}, "
             f"{_pct(summary['kill_rate_non_equivalent'])} without the "
             f"{summary['equivalent_survivors']} equivalent survivor(s).", ""]
    by_path: dict[str, list[dict]] = {}
    for r in results:
        if r["status"] == "survived":
            by_path.setdefault(r["path"], []).append(r)
    for path, rs in sorted(by_path.items()):
        lines += [f"## {path}", ""]
        for r in sorted(rs, key=lambda r: (r["line"], r["col"], r["id"])):
            note = f" (equivalent: {equivalent[r['id']]})" if r["id"] in equivalent else ""
            lines += [f"- `{r['id']}`{note}", "", "  ```python",
                      f"  - {r['before']}", f"  + {r['after']}", "  ```", ""]
    with open(os.path.join(out_dir, "survivors.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


# --------------------------------------------------------------------------- main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=240, help="mutants in the sample (default 240)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    ap.add_argument("--jobs", type=int, default=2, help="parallel workers (default 2)")
    ap.add_argument("--only", nargs="+", metavar="ID", help="run only these mutant ids")
    ap.add_argument("--list", action="store_true", help="print the sample and exit")
    ap.add_argument("--module", metavar="PATTERN",
                    help="only files whose path matches PATTERN (a glob or a substring)")
    ap.add_argument("--out", default=os.path.join("results", "mutation"),
                    help="output folder (default results/mutation)")
    ap.add_argument("--fail-under", type=float, metavar="RATE",
                    help="exit 1 if the kill rate over non-equivalent mutants is below RATE "
                         "(a fraction, e.g. 0.8)")
    args = ap.parse_args(argv)

    files = module_files(args.module)
    sources = {}
    for rel in files:
        with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
            sources[rel] = f.read()
    mutants = all_mutants(files, sources)
    if args.only:
        by_id = {m.id: m for m in mutants}
        unknown = [i for i in args.only if i not in by_id]
        if unknown:
            raise SystemExit("unknown mutant id(s): " + ", ".join(unknown))
        sample = [by_id[i] for i in args.only]
    else:
        sample = random.Random(args.seed).sample(mutants, min(args.n, len(mutants)))
    print(f"{len(mutants)} mutants in {len(files)} files; {len(sample)} sampled "
          f"(seed {args.seed})" if not args.only else
          f"{len(mutants)} mutants in {len(files)} files; {len(sample)} given by --only")
    selection_of = {m.path: expand(tests_for(m.path)) for m in sample}
    if args.list:
        for m in sample:
            before, after = changed_lines(m, sources[m.path])
            print(f"{m.id}\n    - {before}\n    + {after}")
        return 0

    with open(os.path.join(ROOT, EQUIVALENT_FILE), encoding="utf-8") as f:
        equivalent = json.load(f)

    t_start = time.perf_counter()
    workers = Workers(max(1, args.jobs))
    try:
        selections = sorted(set(selection_of.values()))
        print(f"running the {len(selections)} test selection(s) on the unmutated code ...")
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            times = dict(zip(selections, pool.map(lambda s: workers.run(baseline, s),
                                                  selections)))
        for s in selections:
            print(f"  {times[s]:6.1f} s  {' '.join(s)}")

        results, lock, done = [], threading.Lock(), [0]

        def task(m: Mutant) -> dict:
            selection = selection_of[m.path]
            timeout = max(TIMEOUT_MIN, TIMEOUT_FACTOR * times[selection])
            r = workers.run(run_mutant, m, sources[m.path], selection, timeout)
            before, after = changed_lines(m, sources[m.path])
            r = {"id": m.id, **{k: v for k, v in asdict(m).items()
                               if k in ("path", "line", "col", "op", "change")},
                 "before": before, "after": after, **r}
            with lock:
                done[0] += 1
                print(f"[{done[0]}/{len(sample)}] {r['status']:<8} {m.label}  "
                      f"({r['seconds']:.1f} s)", flush=True)
            return r

        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            results = list(pool.map(task, sample))
    finally:
        workers.close()
    wall = time.perf_counter() - t_start

    results.sort(key=lambda r: r["id"])
    summary = summarise(results, equivalent)
    header = {"seed": args.seed, "n": args.n, "only": args.only, "module": args.module,
              "total_mutants": len(mutants), "sampled": len(sample), "jobs": args.jobs,
              "wall_seconds": round(wall, 1),
              "baseline_seconds": {" ".join(s): round(t, 2) for s, t in times.items()},
              "equivalent_file": EQUIVALENT_FILE}
    out_dir = os.path.join(ROOT, args.out) if not os.path.isabs(args.out) else args.out
    write_report(out_dir, header, summary, results, equivalent)

    print(f"\n{summary['total']} mutants: {summary['killed']} killed "
          f"({summary['timed_out']} of them by timeout), {summary['survived']} survived "
          f"({summary['equivalent_survivors']} listed as equivalent); wall time {wall:.0f} s")
    print(f"kill rate {_pct(summary['kill_rate'])}; over non-equivalent mutants "
          f"{_pct(summary['kill_rate_non_equivalent'])}")
    survivors = [r for r in results if r["status"] == "survived"]
    if survivors:
        print("\nsurvivors:")
        for r in survivors:
            note = "  [equivalent]" if r["id"] in equivalent else ""
            print(f"  {r['id']}{note}\n      - {r['before']}\n      + {r['after']}")
    print(f"\nreport: {os.path.relpath(out_dir, ROOT)}/report.json, survivors.md")
    rate = summary["kill_rate_non_equivalent"]
    if args.fail_under is not None and rate is not None and rate < args.fail_under:
        print(f"kill rate {_pct(rate)} is below --fail-under {_pct(args.fail_under)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Write the figures of ``benchmarks/gpu.sh`` into ``docs/gpu.md``, between its markers.

    python benchmarks/gpu_report.py --backend cupy --work FOLDER --out docs/gpu.md

``FOLDER`` holds what ``gpu.sh`` wrote: ``pytest.txt``, ``results-<backend>/`` and
``results-numpy/`` (the experiments' verdicts), ``bench.md`` (``bench_gpu.py``'s table) and
``transfers.txt``. The part of the page between ``<!-- measured -->`` and ``<!-- /measured -->``
is replaced; the rest of the page is kept (a page without the markers gets them at its end).
"""
from __future__ import annotations

import argparse
import datetime
import json
import pathlib

START, END = "<!-- measured -->", "<!-- /measured -->"


def _tail(path: pathlib.Path, n: int) -> list:
    if not path.exists():
        return [f"({path.name} is missing: the step did not run)"]
    lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    return lines[-n:]


def _verdicts(folder: pathlib.Path) -> dict:
    out = {}
    for f in sorted(folder.glob("*/verdict.json")):
        v = json.loads(f.read_text())
        out[v.get("name", f.parent.name)] = (v.get("verdict", "?"), v.get("seconds"))
    return out


def measured_section(backend: str, work: pathlib.Path) -> str:
    today = datetime.date.today().isoformat()
    lines = [START, "", f"Measured on {today} by `benchmarks/gpu.sh` (backend `{backend}`).", ""]
    bench = work / "bench.md"
    lines += (bench.read_text().strip().splitlines() if bench.exists()
              else ["(bench_gpu.py did not finish: see bench.txt)"]) + [""]
    lines += ["**Test suite** (`pytest -n <cores> --backend " + backend + "`, without "
              "`tests/experiments`, which step 2 covers), last lines:", "", "```"]
    lines += _tail(work / "pytest.txt", 3) + ["```", ""]
    dev, cpu = _verdicts(work / f"results-{backend}"), _verdicts(work / "results-numpy")
    lines += ["**Experiments**, `run all --quick`, the same seed:", "",
              f"| experiment | NumPy | {backend} | same verdict | {backend} seconds |",
              "|---|---|---|---|---|"]
    for name in sorted(set(dev) | set(cpu)):
        a, b = cpu.get(name, ("not finished", None)), dev.get(name, ("not finished", None))
        same = ("-" if "not finished" in (a[0], b[0]) else "yes" if a[0] == b[0] else "NO")
        lines.append(f"| {name} | {a[0]} | {b[0]} | {same} | "
                     f"{b[1] if b[1] is not None else '-'} |")
    lines += ["", "**Transfers per step** (`bench_transfers.py`, strict backend), summary:", "",
              "```"] + _tail(work / "transfers.txt", 1) + ["```", "", END]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    out = pathlib.Path(args.out)
    page = out.read_text() if out.exists() else "# The GPU path\n\n"
    section = measured_section(args.backend, pathlib.Path(args.work))
    if START in page and END in page:
        head, rest = page.split(START, 1)
        page = head + section + rest.split(END, 1)[1]
    else:
        page = page.rstrip("\n") + "\n\n" + section + "\n"
    out.write_text(page)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

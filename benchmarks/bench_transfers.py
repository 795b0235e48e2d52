"""Device-to-host transfers (synchronisations on a GPU) of one ``step()`` of every optimizer.

    python benchmarks/bench_transfers.py

Counted on the strict backend (``minigrad.strict``: a CPU stand-in for CuPy that counts every
``.get()``, ``.item()``, ``float()``, ``int()``, ``bool()`` and ``to_numpy`` of device data), for
the second step of each optimizer (the first makes the state): the registered first-order and
geometry optimizers on a 2-D quadratic, stepped as the test registry says, and the second- and
zero-order methods with their defaults. Goal: 0 for the first-order and geometry optimizers;
a stated number for the methods that need scalars on the host. ``tests/optimizers/
test_optim_transfers.py`` pins the same numbers; this script prints them.
"""
from __future__ import annotations

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "optimizers")]

import optim_testkit as K  # noqa: E402
import transfer_counts as T  # noqa: E402
from optim_registry import specs  # noqa: E402


def _fmt(by_kind: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(by_kind.items())) or "-"


def main() -> int:
    rows = []
    for spec in specs():
        got = T.registry_step_transfers(spec, K.quadratic(), K.stepper)
        why = T.REGISTRY_NONZERO.get(spec.name, (None, ""))[1]
        rows.append((spec.name, sum(got.values()), _fmt(got), "", why))
    n_vector = len(rows)
    for name, make, _, why in T.MATRIX_CASES:
        got = T.matrix_step_transfers(make)
        rows.append((f"{name} on a matrix", sum(got.values()), _fmt(got), "", why))
    for name, make, kind, _, why in T.HOST_SCALAR_CASES:
        got, evaluations = T.one_step_transfers(make, T.X0, kind)
        rows.append((name, sum(got.values()), _fmt(got), str(evaluations), why))
    w = max(len(r[0]) for r in rows)
    print(f"{'optimizer':<{w}}  transfers  evaluations  by kind / why")
    for name, total, kinds, ev, why in rows:
        print(f"{name:<{w}}  {total:>9}  {ev:>11}  {kinds}{'  (' + why + ')' if why else ''}")
    first_order = [r for r in rows[:n_vector] if r[0] not in T.REGISTRY_NONZERO]
    print(f"\nregistered first-order and geometry optimizers with 0 transfers per step: "
          f"{sum(r[1] == 0 for r in first_order)} of {len(first_order)} (the others: Shampoo 1, "
          f"its non-finite check, and quasi-Newton with a fixed step)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

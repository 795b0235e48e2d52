"""Record the optimizers' pinned trajectories (the cases of ``parity_cases.py``: every
step()-driven optimizer, float64 and float32, a quadratic and a logistic regression, with and
without weight decay and a learning-rate schedule, every iterate of 100 steps) into
``trajectories.npz``, one array per case under its key (``Adam/float32/quadratic/wd/sched``).

Regenerate it from a checkout of the code whose behaviour is to be pinned, with that checkout
first on the path (the checkout need not contain this folder)::

    cd CHECKOUT && PYTHONPATH=CHECKOUT python TREE/tests/parity/record_trajectories.py \\
        --out TREE/tests/parity/trajectories.npz

where ``TREE`` is the working tree that holds this script (both as absolute paths). The
script prints where ``minigrad`` and ``optimizers`` were imported from: check that it is the
checkout.
"""
from __future__ import annotations

import os

# single-threaded BLAS, as in the test processes (tests/conftest.py); before NumPy is imported
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import pathlib  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(1, str(pathlib.Path(__file__).resolve().parent))
import minigrad  # noqa: E402
import optimizers  # noqa: E402
from parity_cases import CASES, run  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(pathlib.Path(__file__).with_name("trajectories.npz")))
    args = p.parse_args(argv)
    print(f"minigrad from {pathlib.Path(minigrad.__file__).parent}")
    print(f"optimizers from {pathlib.Path(optimizers.__file__).parent}")
    data = {}
    for key, (_, dtype, *_rest) in CASES.items():
        arr = run(key)
        if arr.dtype != np.dtype(dtype) or not np.all(np.isfinite(arr)):
            raise SystemExit(f"{key}: the trajectory is not finite {dtype}; not recorded")
        data[key] = arr
    np.savez_compressed(args.out, **data)
    size = pathlib.Path(args.out).stat().st_size
    print(f"{len(data)} trajectories -> {args.out} ({size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()

"""Record the engine's pinned numbers (see ``engine_cases.py``) into ``engine.npz``.

Run from a checkout whose behaviour is to be pinned, with that checkout first on the path:
``PYTHONPATH=. python tests/parity/record_engine.py --out tests/parity/engine.npz``.
"""
from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np

sys.path.insert(1, str(pathlib.Path(__file__).resolve().parent))
from engine_cases import CASES, DTYPES, compute  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(pathlib.Path(__file__).with_name("engine.npz")))
    args = p.parse_args(argv)
    data = {}
    for name in CASES:
        for dtype in DTYPES:
            for key, arr in compute(name, dtype).items():
                data[f"{name}/{dtype}/{key}"] = arr
    np.savez_compressed(args.out, **data)
    print(f"{len(data)} arrays from {len(CASES) * len(DTYPES)} cases -> {args.out}")


if __name__ == "__main__":
    main()

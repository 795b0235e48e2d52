"""Record the long SAM runs of ``sam_long_cases.py`` into ``sam_long.npz`` from a checkout
(as ``record_trajectories.py``: ``cd CHECKOUT && PYTHONPATH=CHECKOUT:TREE/tests/parity python
TREE/tests/parity/record_sam_long.py --out TREE/tests/parity/sam_long.npz``)."""
from __future__ import annotations

import argparse

import numpy as np

import minigrad
import optimizers
import sam_long_cases as C


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    print("minigrad from", minigrad.__file__, "; optimizers from", optimizers.__file__)
    np.savez_compressed(args.out, **{C.key(s, v): C.run(s, v)
                                     for v in C.VARIANTS for s in C.SEEDS})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

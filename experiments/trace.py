"""A trace: per-iteration measurements of one run, saved as ``.npz`` and loaded back.

Columns (one entry per recorded iteration ``k``; NaN where a quantity is unknown):

* ``k``: the iteration;
* ``f``: :math:`f(x_k)` on the full objective; ``f_gap``: :math:`f(x_k) - f^*`;
* ``grad_norm2``: :math:`\\|\\nabla f(x_k)\\|^2` (full gradient);
* ``dist2``: :math:`\\|x_k - x^*\\|^2`;
* ``lr``: the step size used for the step from ``x_k``;
* ``n_grad``: gradient evaluations so far, counted in per-sample gradients for finite sums
  (a batch of ``B`` counts ``B``; a full gradient counts ``n``) and as 1 per gradient otherwise;
* ``n_f``: function evaluations so far (the same units);
* ``time``: wall-clock seconds so far, measurement excluded.

Figures are a pure function of saved traces, so they can be redrawn without rerunning.
"""
from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass, field

import numpy as np

COLUMNS = ("k", "f", "f_gap", "grad_norm2", "dist2", "lr", "n_grad", "n_f", "time")


@dataclass
class Trace:
    label: str
    columns: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def __len__(self) -> int:
        return len(self.columns.get("k", ()))

    def save(self, path) -> pathlib.Path:
        path = pathlib.Path(path)
        np.savez(path, __label__=np.array(self.label), __meta__=np.array(json.dumps(
            self.meta, default=_jsonable)), **{k: np.asarray(v) for k, v in self.columns.items()})
        return path

    @classmethod
    def load(cls, path) -> "Trace":
        with np.load(path, allow_pickle=False) as z:
            label = str(z["__label__"])
            meta = json.loads(str(z["__meta__"]))
            columns = {k: z[k] for k in z.files if not k.startswith("__")}
        return cls(label, columns, meta)


def _jsonable(x):
    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    return str(x)


def save_traces(traces, out_dir, stem: str = "trace") -> list:
    """Save traces as ``stem_00.npz``, ``stem_01.npz``, ... in ``out_dir``."""
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return [t.save(out_dir / f"{stem}_{i:02d}.npz") for i, t in enumerate(traces)]


def load_traces(out_dir, stem: str = "trace") -> list:
    """Load the traces saved by :func:`save_traces`, in order."""
    return [Trace.load(p) for p in sorted(pathlib.Path(out_dir).glob(f"{stem}_*.npz"))]

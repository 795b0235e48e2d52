"""Draw the 2-D problems of ``problems`` (landscapes and test functions) as contour maps.

Run from the repository root:  python docs/figures/draw_landscapes.py
Writes ``docs/figures/landscape_<name>.png``: filled contours of f over the problem's ``bounds``,
the start point x0 (white circle), the global minimum x* (red star) and, where the problem lists
them, other minima (white crosses). Plotting lives here, not in ``problems`` (layers).
"""
from __future__ import annotations

import pathlib
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from minigrad import backend as B  # noqa: E402
from problems import landscapes, test_functions  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent

# name -> (problem, colour scale): "log" draws log(f - f* + 1e-3) for functions whose range
# spans orders of magnitude
PROBLEMS = {
    **{name: (cls(), "log" if name == "ravine" else "linear")
       for name, cls in landscapes.LANDSCAPES.items()},
    "rosenbrock": (test_functions.Rosenbrock(), "log"),
    "beale": (test_functions.Beale(), "log"),
    "himmelblau": (test_functions.Himmelblau(), "log"),
    "rastrigin": (test_functions.Rastrigin(), "linear"),
    "ackley": (test_functions.Ackley(), "linear"),
    "ill_conditioned_quadratic": (test_functions.IllConditionedQuadratic(), "linear"),
}


def draw(name: str, problem, scale: str, n: int = 501) -> pathlib.Path:
    X, Y, Z = (B.to_numpy(a) for a in problem.grid(n))
    f_star = problem.f_star
    if scale == "log":
        Z = np.log10(Z - f_star + 1e-3)
        label = "log10(f - f* + 1e-3)"
    else:
        label = "f"
    fig, ax = plt.subplots(figsize=(6.4, 5.0), dpi=110)
    cs = ax.contourf(X, Y, Z, levels=40, cmap="viridis")
    ax.contour(X, Y, Z, levels=20, colors="k", linewidths=0.3, alpha=0.5)
    fig.colorbar(cs, ax=ax, label=label)
    for m in getattr(problem, "local_minima", []) or getattr(problem, "minima", []):
        m = B.to_numpy(m)
        ax.plot(m[0], m[1], "x", color="white", ms=8, mew=2)
    xs, x0 = B.to_numpy(problem.x_star), B.to_numpy(problem.x0)
    shown = 0.0 if abs(f_star) < 1e-12 else f_star
    ax.plot(xs[0], xs[1], "*", color="red", ms=14, mec="white", label=f"x* (f* = {shown:.3g})")
    ax.plot(x0[0], x0[1], "o", color="white", ms=8, mec="black", label="x0")
    ax.set_title(name.replace("_", " "))
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_aspect("equal")
    ax.legend(loc="lower left", fontsize=8, framealpha=0.8)
    fig.tight_layout()
    path = OUT / f"landscape_{name}.png"
    fig.savefig(path)
    plt.close(fig)
    return path


if __name__ == "__main__":
    for name, (problem, scale) in PROBLEMS.items():
        print(draw(name, problem, scale))

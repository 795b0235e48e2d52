"""Damped Newton's Armijo trials with the gradient (``trial_gradient``) in ``minimize``.

When f and the gradient come from one call (``jac=True`` or minigrad), each Armijo trial
evaluates both and the accepted trial's gradient is that of :math:`x_{k+1}`: a full step costs one
evaluation instead of two. The counts below follow by hand; the iterates are those of the form
with trials of f alone (``trial_gradient=False``), bit for bit, since the trials' values are the
same numbers.
"""
import numpy as np
import pytest

import minigrad as mg
from optimizers.minimize import minimize


def on(x, like):
    """The host array ``x`` on ``like``'s backend."""
    return mg.backend.asarray(np.asarray(x, dtype=float), backend=mg.backend.backend_name_of(like))


class Calls:
    """``fun(x) -> (f, g)`` with a call counter and the points it was called at."""

    def __init__(self, fn):
        self.fn, self.n = fn, 0

    def __call__(self, x):
        self.n += 1
        return self.fn(x)


A, B = np.array([[3.0, 1.0], [1.0, 2.0]]), np.array([1.0, 1.0])


def quad(x):
    xh = mg.to_numpy(x)
    return 0.5 * float(xh @ A @ xh) - float(B @ xh), on(A @ xh - B, x)


def hyp(x):
    """f(x) = sqrt(1 + x^2) and f'(x) = x / sqrt(1 + x^2)."""
    xh = mg.to_numpy(x)
    r = float(np.sqrt(1.0 + float(xh @ xh)))
    return r, on(xh / r, x)


def hyp_hess(x):
    xh = mg.to_numpy(x)
    return on([[(1.0 + float(xh @ xh)) ** -1.5]], x)


def rosen(x):
    a, b = mg.to_numpy(x)
    return (100.0 * (b - a * a) ** 2 + (1.0 - a) ** 2,
            on([-400.0 * a * (b - a * a) - 2.0 * (1.0 - a), 200.0 * (b - a * a)], x))


def rosen_hess(x):
    a, b = mg.to_numpy(x)
    return on([[1200.0 * a * a - 400.0 * b + 2.0, -400.0 * a], [-400.0 * a, 200.0]], x)


def test_a_full_step_costs_one_evaluation():
    """Quadratic: the unit Newton step lands on A^{-1} b and passes Armijo at once. Calls: f and g
    at x_0, then the one trial, which is x_1 with its gradient: nfev = njev = 2 = the calls of
    fun, nhev 1 (trials of f alone: 3 calls)."""
    fun = Calls(quad)
    res = minimize(fun, [2.0, -1.0], method="newton", jac=True, hess=lambda x: on(A, x))
    assert res.success and res.nit == 1 and res.alphas == [1.0]
    assert (res.nfev, res.njev, res.nhev, fun.n) == (2, 2, 1, 2)
    np.testing.assert_allclose(mg.to_numpy(res.x), np.linalg.solve(A, B), rtol=0, atol=1e-12)
    old = Calls(quad)
    minimize(old, [2.0, -1.0], method="newton", jac=True, hess=lambda x: on(A, x),
             trial_gradient=False)
    assert old.n == 3


def test_the_accepted_trial_gives_the_gradient():
    """f = sqrt(1 + x^2) from x = 1: d = -f'/f'' = -2; the trial alpha = 1 lands on x = -1 (f as
    at x = 1, no sufficient decrease; f' = -1/sqrt 2 there), alpha = 1/2 on x = 0 (f = 1, accepted,
    f' = 0 ends the run). Calls: x_0 and the two trials, each with its gradient: nfev = njev = 3;
    the result's gradient is f'(0) = 0, not the rejected trial's."""
    fun = Calls(hyp)
    res = minimize(fun, [1.0], method="newton", jac=True, hess=hyp_hess)
    assert res.status == 0 and res.nit == 1 and res.alphas == [0.5]
    assert (res.nfev, res.njev, res.nhev, fun.n) == (3, 3, 1, 3)
    np.testing.assert_allclose(mg.to_numpy(res.x), [0.0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(mg.to_numpy(res.jac), [0.0], rtol=0, atol=1e-15)


def test_both_forms_make_the_same_iterates_on_rosenbrock():
    """Rosenbrock from (-1.2, 1) (backtracking on the early steps): the iterates, steps and
    iterations of the two forms are identical; with the gradient at each trial the run needs one
    call per trial plus the start (nfev = njev = 1 + the trials), without it one more call of f
    and g per iteration: nfev(False) = nfev(True) + nit, and both solve it."""
    kw = dict(method="newton", jac=True, hess=rosen_hess)
    new, old = minimize(rosen, [-1.2, 1.0], **kw), minimize(rosen, [-1.2, 1.0],
                                                             trial_gradient=False, **kw)
    assert new.success and old.success and new.nit == old.nit > 5
    assert new.alphas == old.alphas and any(a < 1.0 for a in new.alphas)
    np.testing.assert_array_equal(mg.to_numpy(new.x), mg.to_numpy(old.x))
    assert new.nfev == new.njev and old.njev == old.nit + 1
    assert old.nfev == new.nfev + new.nit
    np.testing.assert_allclose(mg.to_numpy(new.x), [1.0, 1.0], rtol=0, atol=1e-8)


def test_minigrad_trials_carry_the_gradient():
    """With minigrad giving the derivatives ('auto' is True): the quadratic's run makes
    nfev = njev = 2 (x_0; the trial x_1), against nfev 3, njev 2 with trials of f alone."""
    Am, bm = mg.Tensor(A), mg.Tensor(B)

    def f(x):
        return 0.5 * (x * (Am @ x)).sum() - (x * bm).sum()
    res = minimize(f, [2.0, -1.0], method="newton")
    old = minimize(f, [2.0, -1.0], method="newton", trial_gradient=False)
    assert (res.nfev, res.njev, res.nit) == (2, 2, 1)
    assert (old.nfev, old.njev, old.nit) == (3, 2, 1)
    np.testing.assert_array_equal(mg.to_numpy(res.x), mg.to_numpy(old.x))


def test_a_separate_jac_keeps_trials_of_f_alone_unless_asked():
    """A jac callable ('auto' is False): the hyp run calls f at x_0, the two trials and x_1 (4)
    and jac at x_0 and x_1 (2); trial_gradient=True calls jac at each trial instead (3 each)."""
    counts = {"f": 0, "g": 0}

    def f(x):
        counts["f"] += 1
        return hyp(x)[0]

    def g(x):
        counts["g"] += 1
        return hyp(x)[1]
    for flag, want in (("auto", (4, 2)), (True, (3, 3))):
        counts.update(f=0, g=0)
        res = minimize(f, [1.0], method="newton", jac=g, hess=hyp_hess, trial_gradient=flag)
        assert res.status == 0 and (res.nfev, res.njev) == want == (counts["f"], counts["g"])


@pytest.mark.parametrize("bad", ["yes", 1, None])
def test_trial_gradient_is_checked(bad):
    with pytest.raises(ValueError, match="trial_gradient"):
        minimize(quad, [2.0, -1.0], method="newton", jac=True, hess=lambda x: on(A, x),
                 trial_gradient=bad)

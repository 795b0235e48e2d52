"""One result type and one status table for the line searches and minimize
(optimizers.results), and the public names of optimizers.line_search after its split."""
import numpy as np
import pytest

import minigrad as mg
import optimizers.line_search as LS
from optimizers import armijo, objective, results, vector_optimizer, wolfe
from optimizers.minimize import minimize
from optimizers.results import STATUS_MESSAGES, LineSearchResult, OptimizeResult, Status


def test_the_codes_are_scipys_where_scipy_has_one():
    """scipy.optimize.minimize: 0 success, 1 max iterations, 2 precision loss (line search),
    3 NaN; 4 is the line searches' own."""
    assert [int(s) for s in Status] == [0, 1, 2, 3, 4]
    assert (Status.SUCCESS, Status.MAXITER, Status.LINE_SEARCH, Status.NONFINITE,
            Status.NOT_DESCENT) == (0, 1, 2, 3, 4)
    assert set(STATUS_MESSAGES) == set(Status)
    assert all(Status(c).message == STATUS_MESSAGES[c] for c in Status)


def test_a_line_search_result_is_an_optimize_result():
    res = wolfe.strong_wolfe(lambda a: (a - 1.0) ** 2, lambda a: 2.0 * (a - 1.0), alpha0=0.5)
    assert isinstance(res, LineSearchResult) and isinstance(res, OptimizeResult)
    assert res.success and res.status == Status.SUCCESS and res["alpha"] == res.alpha
    assert res.message == STATUS_MESSAGES[Status.SUCCESS]
    assert type(res.status) is int


@pytest.mark.parametrize("search", ["wolfe", "armijo"])
def test_not_a_descent_direction_is_status_4_in_both_searches(search):
    if search == "wolfe":
        res = wolfe.strong_wolfe(lambda a: a, lambda a: 1.0)
    else:
        res = armijo.armijo_backtracking(lambda a: a, 0.0, 1.0)
    assert res.status == Status.NOT_DESCENT == 4 and not res.success and res.alpha == 0.0
    assert res.message == STATUS_MESSAGES[Status.NOT_DESCENT]


def test_a_rounding_level_failure_is_status_2_as_in_minimize():
    """Armijo: the step fell below alpha_min; minimize: the line search failed; both 2."""
    res = armijo.armijo_backtracking(lambda a: 0.0, 0.0, -1.0, maxiter=200, alpha_min=1e-8)
    assert res.status == Status.LINE_SEARCH == 2 and res.alpha == 0.0

    def wrong_gradient(x):                   # f and gradient disagree: no step decreases f
        return float(x @ x) * 0.0 + 1.0, mg.get_array_module(x).ones_like(x)  # x's backend
    out = minimize(wrong_gradient, [1.0, 2.0], method="bfgs", jac=True)
    assert out.status == Status.LINE_SEARCH and not out.success


def test_minimize_reports_codes_of_the_table():
    def rosen(x):
        return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()
    assert minimize(rosen, [-1.2, 1.0], method="bfgs").status == Status.SUCCESS
    assert minimize(rosen, [-1.2, 1.0], method="l-bfgs", maxiter=3).status == Status.MAXITER
    assert minimize(rosen, [-1.2, 1.0], method="newton", maxiter=2).status == Status.MAXITER


def test_line_search_keeps_its_public_names():
    assert LS.strong_wolfe is wolfe.strong_wolfe
    assert LS.check_wolfe_constants is wolfe.check_wolfe_constants
    assert LS.armijo_backtracking is armijo.armijo_backtracking
    assert LS.Objective is objective.Objective
    assert LS.line_search_wolfe is objective.line_search_wolfe
    assert LS.line_search_armijo is objective.line_search_armijo
    assert LS.ClosureObjective is vector_optimizer.ClosureObjective
    assert LS.VectorOptimizer is vector_optimizer.VectorOptimizer
    assert LS.LineSearchResult is results.LineSearchResult
    assert set(LS.__all__) >= {"LineSearchResult", "Objective", "armijo_backtracking",
                               "strong_wolfe", "line_search_armijo", "line_search_wolfe",
                               "check_wolfe_constants", "ClosureObjective", "VectorOptimizer"}

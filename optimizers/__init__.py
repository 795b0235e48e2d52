"""From-scratch optimizers that mirror the lectures' formulas line by line.

Filled by the optimizer issues: the core ``Optimizer`` API, first-order methods, geometry and
curvature methods, quasi-Newton, zero-order methods and a SciPy-style ``minimize``.
"""

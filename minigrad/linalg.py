"""Linear algebra with derivatives, as ``numpy.linalg``: ``mg.linalg.inv`` and the others.

The matrix functions are entries of the table in :mod:`minigrad.primitive`; their VJPs follow
Giles, "An extended collection of matrix derivative results for forward and reverse mode
algorithmic differentiation" (2008). In a recorded backward pass VJPs call ``xp.linalg.<name>``,
which is this module (``minigrad.ops.linalg``); in a plain one the backend's ``linalg``.
"""
from __future__ import annotations

__all__: list = []

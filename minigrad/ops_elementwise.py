"""More elementwise primitives: tan, sinh, cosh, arcsin, arccos, arctan, log2, log10, logaddexp.

The primitives here are entries of the table in :mod:`minigrad.primitive`, written as in
:mod:`minigrad.ops` (whose helpers they use); :mod:`minigrad.ops` imports this module, so its
functions are also names of that namespace (where recorded VJPs find them) and their Tensor
methods are installed with the others.
"""
from __future__ import annotations

__all__: list = []

"""minigrad: a small reverse-mode autograd engine on NumPy (CPU) or CuPy (GPU).

>>> import minigrad as mg
>>> x = mg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> loss = (x * x).sum()
>>> loss.backward()
>>> x.grad
array([2., 4., 6.])

See ``docs/minigrad.md`` for how the engine works.
"""
from minigrad.backend import (BackendError, cupy_available, get_array_module, get_backend,
                              set_backend, to_numpy, use_backend)
from minigrad.tensor import Tensor, enable_grad, is_grad_enabled, no_grad
from minigrad.ops import (abs, add, broadcast_to, clip, concatenate, cos, div, dot, exp,
                          expand_dims, expm1, log, log1p, log_softmax, logsumexp, matmul, max,
                          maximum, mean, min, minimum, mul, neg, norm, outer, power, relu,
                          reshape, sigmoid, sign, sin, softmax, softplus, sqrt, squeeze, stack,
                          sub, sum, swapaxes, tanh, transpose, var, where)
from minigrad.autograd import vjp_of
from minigrad.functional import (elementwise_grad, grad, hessian, hvp, jacobian, jvp,
                                 value_and_grad)
from minigrad import nn, gradcheck, linalg  # noqa: E402
from minigrad.ops import EXTENSION_MODULES as _EXTENSIONS

for _module in _EXTENSIONS:  # tan, prod, trace, einsum, ...: each module's public functions
    globals().update({_name: getattr(_module, _name) for _name in _module.__all__})

__all__ = [
    "Tensor", "no_grad", "enable_grad", "is_grad_enabled",
    "set_backend", "use_backend", "get_backend", "get_array_module", "to_numpy",
    "cupy_available", "BackendError",
    "grad", "value_and_grad", "elementwise_grad", "jacobian", "jvp", "hvp", "hessian", "vjp_of",
    "add", "sub", "mul", "div", "neg", "power", "matmul", "dot", "outer",
    "exp", "log", "log1p", "expm1", "sqrt", "abs", "sign", "sin", "cos", "tanh", "sigmoid",
    "relu", "softplus", "maximum", "minimum", "where", "clip",
    "sum", "mean", "max", "min", "logsumexp", "var", "norm",
    "reshape", "transpose", "swapaxes", "broadcast_to", "concatenate", "stack", "squeeze",
    "expand_dims", "softmax", "log_softmax", "nn", "gradcheck", "linalg",
    *(_name for _module in _EXTENSIONS for _name in _module.__all__),
]

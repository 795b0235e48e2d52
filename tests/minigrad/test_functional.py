"""The functional transforms: each returns a function, the earlier call forms still evaluate, and
every result matches a closed form or central finite differences."""
import numpy as np
import pytest

import minigrad as mg

RNG = np.random.default_rng(0)


def f_vec(x):
    """R^3 -> R^3 with a closed-form Jacobian."""
    return mg.stack([x[0] * x[1], mg.sin(x[2]), x[0] ** 2])


def jac_vec(x):
    return np.array([[x[1], x[0], 0.0], [0.0, 0.0, np.cos(x[2])], [2 * x[0], 0.0, 0.0]])


def rosenbrock(x):
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()


def rosenbrock_hessian(x):
    n = len(x)
    H = np.zeros((n, n))
    for i in range(n - 1):
        H[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        H[i, i + 1] += -400 * x[i]
        H[i + 1, i] += -400 * x[i]
        H[i + 1, i + 1] += 200
    return H


def central_jacobian(f, x, h=1e-6):
    cols = []
    for j in range(x.size):
        e = np.zeros_like(x)
        e.flat[j] = h
        diff = f(mg.Tensor(x + e)).numpy() - f(mg.Tensor(x - e)).numpy()
        cols.append((diff / (2 * h)).ravel())
    return np.stack(cols, axis=1)


@pytest.mark.parametrize("transform", [mg.grad, mg.value_and_grad, mg.elementwise_grad,
                                       mg.jacobian, mg.jvp, mg.hvp, mg.hessian])
def test_every_transform_returns_a_function(transform):
    fun = transform(rosenbrock)
    assert callable(fun) and fun.__name__.endswith("rosenbrock")


def test_jacobian_matches_the_closed_form_and_both_call_forms_agree():
    x = np.array([0.3, -1.2, 0.7])
    np.testing.assert_allclose(mg.jacobian(f_vec)(x), jac_vec(x), rtol=1e-14, atol=1e-15)
    np.testing.assert_array_equal(mg.jacobian(f_vec, x), mg.jacobian(f_vec)(x))


def test_jacobian_shape_is_output_shape_then_input_shape_and_matches_differences():
    W = mg.backend.asarray(RNG.standard_normal((2, 3)))  # on the backend of mg.Tensor(...)

    def f(X):  # (3, 2) -> (2, 2)
        return mg.tanh(mg.matmul(W, X))
    X = RNG.standard_normal((3, 2))
    J = mg.to_numpy(mg.jacobian(f)(mg.backend.asarray(X)))
    assert J.shape == (2, 2, 3, 2)
    # central differences with h = 1e-6: error ~h^2 + eps/h, about 1e-10
    np.testing.assert_allclose(J.reshape(4, 6), central_jacobian(f, X), rtol=1e-7, atol=1e-9)


def test_jvp_is_the_jacobian_times_v_and_a_directional_difference():
    x, v = np.array([0.3, -1.2, 0.7]), np.array([1.0, -2.0, 0.5])
    y, jv = mg.jvp(f_vec)(x, v)
    np.testing.assert_array_equal(y, f_vec(mg.Tensor(x)).numpy())
    np.testing.assert_allclose(jv, jac_vec(x) @ v, rtol=1e-14, atol=1e-15)
    h = 1e-6
    fd = (f_vec(mg.Tensor(x + h * v)).numpy() - f_vec(mg.Tensor(x - h * v)).numpy()) / (2 * h)
    np.testing.assert_allclose(jv, fd, rtol=1e-8, atol=1e-9)  # central difference, h = 1e-6
    y2, jv2 = mg.jvp(f_vec, x, v)
    np.testing.assert_array_equal(jv2, jv)


def test_hvp_and_hessian_match_the_closed_form_hessian_of_rosenbrock():
    x, v = RNG.standard_normal(6), RNG.standard_normal(6)
    H = rosenbrock_hessian(x)
    np.testing.assert_allclose(mg.hessian(rosenbrock)(x), H, rtol=1e-13, atol=1e-12)
    np.testing.assert_array_equal(mg.hessian(rosenbrock, x), mg.hessian(rosenbrock)(x))
    np.testing.assert_allclose(mg.hvp(rosenbrock)(x, v), H @ v, rtol=1e-12, atol=1e-11)
    np.testing.assert_array_equal(mg.hvp(rosenbrock, x, v), mg.hvp(rosenbrock)(x, v))


def test_elementwise_grad_is_the_derivative_at_every_entry():
    xs = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(mg.elementwise_grad(mg.tanh)(xs), 1 - np.tanh(xs) ** 2,
                               rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(mg.elementwise_grad(mg.sin)(xs), np.cos(xs), rtol=1e-14,
                               atol=1e-15)


def test_the_transforms_compose():
    x, v = RNG.standard_normal(5), RNG.standard_normal(5)
    H = rosenbrock_hessian(x)
    np.testing.assert_allclose(mg.jacobian(mg.grad(rosenbrock))(x), H, rtol=1e-12, atol=1e-11)
    _, hv = mg.jvp(mg.grad(rosenbrock))(x, v)  # forward over reverse
    np.testing.assert_allclose(hv, H @ v, rtol=1e-12, atol=1e-11)
    d2 = mg.grad(mg.grad(lambda t: mg.sin(t) * t))(0.7)  # (t sin t)'' = 2 cos t - t sin t
    np.testing.assert_allclose(mg.to_numpy(d2), 2 * np.cos(0.7) - 0.7 * np.sin(0.7), rtol=1e-14)


def test_tensors_in_give_tensors_out_and_arrays_give_arrays():
    x = np.array([0.3, -1.2, 0.7])
    assert isinstance(mg.jacobian(f_vec)(x), np.ndarray)
    assert isinstance(mg.jacobian(f_vec)(mg.Tensor(x)), mg.Tensor)
    y, jv = mg.jvp(f_vec)(mg.Tensor(x), np.ones(3))
    assert isinstance(y, mg.Tensor) and isinstance(jv, mg.Tensor)


def test_functions_that_do_not_depend_on_x_give_zeros():
    c = mg.Tensor(np.array([1.0, 2.0]))
    x = np.array([0.5, 0.5, 0.5])
    np.testing.assert_array_equal(mg.jacobian(lambda x: c * 2.0)(x), np.zeros((2, 3)))
    y, jv = mg.jvp(lambda x: x * 0.0 + 1.0)(x, np.ones(3))
    np.testing.assert_array_equal(jv, np.zeros(3))


def test_bad_calls_are_refused_with_the_reason():
    with pytest.raises(TypeError, match="v is missing"):
        mg.hvp(rosenbrock, np.ones(3))
    with pytest.raises(TypeError, match="tangent v is missing"):
        mg.jvp(f_vec, np.ones(3))
    with pytest.raises(ValueError, match="v has shape"):
        mg.jvp(f_vec)(np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="scalar"):
        mg.hessian(f_vec)(np.ones(3))
    with pytest.raises(TypeError, match="must return a minigrad Tensor"):
        mg.jacobian(lambda x: 1.0)(np.ones(3))


def test_hessian_inside_an_outer_transform_gives_third_derivatives():
    # f = u0 u1 u2: d^3 f / du0 du1 du2 = 1, every other third derivative 0
    T = mg.jacobian(mg.hessian(lambda u: u[0] * u[1] * u[2]))(np.array([0.3, -0.7, 1.1]))
    expected = np.zeros((3, 3, 3))
    for i, j, k in [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)]:
        expected[i, j, k] = 1.0
    np.testing.assert_array_equal(T, expected)
    # (x^4)''' = 24 x
    np.testing.assert_allclose(mg.grad(lambda x: mg.hessian(lambda y: (y ** 4).sum())(x).sum())(
        np.array([0.5, 2.0])), 24 * np.array([0.5, 2.0]), rtol=1e-14)

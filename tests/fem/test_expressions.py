"""Safe expressions: the whitelist, the guard against huge constants, evaluation, non-finite
values located, sympy kept out of ``import femkron``; and ``fk.manufactured`` checked against
hand-derived loads and face data."""

import subprocess
import sys
import time

import numpy as np
import pytest

import femkron as fk
from femkron.fem.expressions import (
    MAX_DEPTH,
    MAX_LENGTH,
    ExpressionError,
    parse_expression,
)

XY = ("x", "y")
x = np.linspace(0.05, 0.95, 7)[:, None]
y = np.linspace(-0.9, 0.8, 5)[None, :]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1 + x*y", lambda x, y: 1 + x * y),
        ("x**2 - y/3", lambda x, y: x**2 - y / 3),
        ("-x + +y", lambda x, y: -x + y),
        ("sin(pi*x)*cos(y) + tan(x)", lambda x, y: np.sin(np.pi * x) * np.cos(y) + np.tan(x)),
        ("exp(-x)*log(2 + y) + sqrt(x)", lambda x, y: np.exp(-x) * np.log(2 + y) + np.sqrt(x)),
        (
            "abs(y) + tanh(x) + sinh(y) + cosh(x)",
            lambda x, y: np.abs(y) + np.tanh(x) + np.sinh(y) + np.cosh(x),
        ),
        ("arctan(y) + atan2(y, x)", lambda x, y: np.arctan(y) + np.arctan2(y, x)),
        (
            "min(x, y) + max(x, y, 0.5)",
            lambda x, y: np.minimum(x, y) + np.maximum(x, np.maximum(y, 0.5)),
        ),
        ("where(x < 0.5, 1, y)", lambda x, y: np.where(x < 0.5, 1.0, y)),
        ("where(y >= 0, x, -x)", lambda x, y: np.where(y >= 0, x, -x)),
        ("heaviside(x - 0.5)", lambda x, y: np.heaviside(x - 0.5, 0.5)),
        ("e**x * pi", lambda x, y: np.e**x * np.pi),
        ("2.5e-1", lambda x, y: 0.25 + 0 * x * y),
    ],
)
def test_every_whitelisted_form_evaluates_like_numpy(text, expected):
    ex = parse_expression(text, XY)
    got = ex(x, y)
    assert got.shape == (7, 5)
    assert np.allclose(got, expected(x, y), rtol=1e-13, atol=1e-14)


def test_heaviside_is_one_half_at_zero_and_where_takes_each_branch():
    h = parse_expression("heaviside(x)", ("x",))
    assert h(np.array([-1.0, 0.0, 2.0])).tolist() == [0.0, 0.5, 1.0]
    w = parse_expression("where(x <= 0, 10, 20)", ("x",))
    assert w(np.array([-1.0, 0.0, 1.0])).tolist() == [10.0, 10.0, 20.0]


def test_constants_and_derivatives():
    assert parse_expression("2*pi", XY).value == 2 * np.pi
    assert parse_expression(3, XY).value == 3.0 and parse_expression(3, XY).is_constant
    ex = parse_expression("x**3*y + sin(y)", XY)
    assert ex.used == {"x", "y"} and not ex.is_constant
    assert np.allclose(ex.diff("x")(x, y), 3 * x**2 * y)
    assert np.allclose(ex.diff("y")(x, y), x**3 + np.cos(y))
    at = parse_expression("exp(-t)*x", ("x", "t")).at("t", 2.0)
    assert at.variables == ("x",) and np.isclose(float(at(3.0)), 3 * np.exp(-2.0))
    # a constant broadcasts to the shape of the inputs
    assert parse_expression("1", XY)(np.zeros((2, 1)), np.zeros(3)).shape == (2, 3)
    with pytest.raises(ExpressionError, match="depends on x"):
        _ = parse_expression("x + 1", XY).value


INJECTIONS = [
    ("__import__('os').system('touch PWNED')", "not-allowed", ".system"),
    ("open('PWNED', 'w')", "not-allowed", "open"),
    ("().__class__.__base__.__subclasses__()", "not-allowed", ".__subclasses__"),
    ("x.__class__", "not-allowed", ".__class__"),
    ("lambda: open('PWNED', 'w')", "not-allowed", "lambda: open('PWNED', 'w')"),
    ("(lambda: 0)()", "not-allowed", "lambda: 0"),
    ("import os", "syntax", "import"),
    ("x[0]", "not-allowed", "x[0]"),
    ("__builtins__", "not-allowed", "__builtins__"),
    ("eval('1')", "not-allowed", "eval"),
    ("getattr(x, 'real')", "not-allowed", "getattr"),
    ("sin.__globals__", "not-allowed", ".__globals__"),
    ("[open('PWNED', 'w') for _ in 'a']", "not-allowed", None),
    ("x if x else open('PWNED', 'w')", "not-allowed", None),
    ("'a' * 10**9", "not-allowed", "'a'"),
    ("10**10**10", "too-large", "10**10**10"),
    ("9**9**9**9", "too-large", None),
    ("(2**100)**(2**100)", "too-large", None),
    ("2**sqrt(10**200)", "too-large", "10**200"),
    ("2**where(1 < 2, 10**99, 1)", "too-large", None),
    ("x**101", "too-large", "x**101"),
    ("exp(10**3)", "too-large", "exp(10**3)"),
    ("1" + "0" * 400, "too-large", None),
    ("1/0", "not-finite", "1/0"),
    ("x ^ 2", "not-allowed", "x ^ 2"),
    ("x < 1", "not-allowed", "x < 1"),
    ("where(x, 1, 2)", "not-allowed", "x"),
    ("sin(x=1)", "not-allowed", None),
    ("sin(*[x])", "not-allowed", None),
    ("z + 1", "unknown-name", "z"),
    ("t", "unknown-name", "t"),
    ("foo", "unknown-name", "foo"),
    ("sin", "not-allowed", "sin"),
    ("x y", "syntax", None),
    ("", "syntax", None),
    ("(" * 300 + "x" + ")" * 300, "syntax", None),
    ("-" * 300 + "x", "too-large", None),
    ("x + " * 300 + "1", "too-large", None),
]


@pytest.mark.parametrize("text, reason, token", INJECTIONS)
def test_everything_outside_the_whitelist_is_refused_quickly(
    text, reason, token, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    t0 = time.perf_counter()
    with pytest.raises(ExpressionError) as info:
        parse_expression(text, XY, where="f.toml: equation.f, line 3")
    assert time.perf_counter() - t0 < 2.0
    err = info.value
    assert isinstance(err, ValueError) and isinstance(err, fk.FemkronError)
    assert err.reason == reason, str(err)
    assert str(err).startswith("f.toml: equation.f, line 3: ")
    if token is not None:
        assert err.token == token and repr(token) in str(err)
    assert "\n" not in str(err)
    assert not (tmp_path / "PWNED").exists()


def test_limits_of_length_and_depth():
    with pytest.raises(ExpressionError, match=f"more than the {MAX_LENGTH}"):
        parse_expression("x+" * MAX_LENGTH + "1", XY)
    with pytest.raises(ExpressionError, match=f"nested more than {MAX_DEPTH}"):
        parse_expression("sin(" * 110 + "x" + ")" * 110, XY)
    assert parse_expression("x**100 + 10**99", XY).used == {"x"}  # at the bounds: accepted


def test_non_numbers_and_bad_variables_are_refused():
    with pytest.raises(ExpressionError, match="must be a number or an expression"):
        parse_expression(True, XY)
    with pytest.raises(ExpressionError, match="must be finite"):
        parse_expression(float("nan"), XY)
    with pytest.raises(ValueError, match="variables"):
        parse_expression("x", ("x", "q"))


@pytest.mark.parametrize(
    "text, point, what",
    [
        ("1/x", "x=0, y=-0.5", "inf"),
        ("log(x - 0.5)", "x=0, y=-0.5", "nan"),
        ("sqrt(y)", "x=0, y=-0.5", "nan"),
        ("exp(1000*x)", "x=1, y=-0.5", "inf"),
    ],
)
def test_non_finite_values_name_the_first_bad_point(text, point, what):
    ex = parse_expression(text, XY, where="p.toml: equation.f, line 7")
    with pytest.raises(ExpressionError) as info:
        ex(np.array([[0.0], [1.0]]), np.array([[-0.5, 0.5]]))
    assert info.value.reason == "not-finite"
    assert (
        str(info.value) == f"p.toml: equation.f, line 7: {text!r} is not finite ({what}) at {point}"
    )


def test_complex_values_are_refused_with_the_point():
    import sympy

    from femkron.fem.expressions import Expression

    ex = Expression(sympy.I * sympy.Symbol("x", real=True), ("x",), "I*x", "g")
    with pytest.raises(ExpressionError, match=r"^g: 'I\*x' is not real at x=0.5$"):
        ex(np.array([0.5]))


def test_wrong_number_of_arguments():
    with pytest.raises(TypeError, match="takes 2 argument"):
        parse_expression("x*y", XY)(1.0)


def test_import_femkron_does_not_import_sympy():
    code = "import femkron, sys; assert 'sympy' not in sys.modules, 'sympy imported'"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


# ---- fk.manufactured -----------------------------------------------------------------------
def test_manufactured_load_and_face_data_match_hand_derivation():
    ms = fk.manufactured("x**2*y + sin(x)", kappa="1 + x*y", sigma=2.0)
    assert ms.dim == 2 and ms.variables == XY
    ux, uy = 2 * x * y + np.cos(x), x**2
    k = 1 + x * y
    # f = -(∂x(κ ux) + ∂y(κ uy)) + σu
    f = -(y * ux + k * (2 * y - np.sin(x)) + x * uy) + 2 * (x**2 * y + np.sin(x))
    assert np.allclose(ms.f(x, y), f, rtol=1e-13)
    assert np.allclose(ms.grad[0](x, y), ux) and np.allclose(ms.grad[1](x, y), uy + 0 * x)
    # outward normals: -x on left, +x on right, -y on bottom, +y on top
    assert np.allclose(ms.flux("left")(x, y), -k * ux)
    assert np.allclose(ms.flux("right")(x, y), k * ux)
    assert np.allclose(ms.flux("bottom")(x, y), -k * uy)
    assert np.allclose(ms.robin_data("top", 3.0)(x, y), k * uy + 3 * (x**2 * y + np.sin(x)))


def test_manufactured_advection_and_dimension():
    ms = fk.manufactured("exp(x)*z", kappa=0.5, velocity=(1.0, 0.0, "2"))
    assert ms.dim == 3  # z used
    xs, ys, zs = 0.3, 0.4, 0.7
    f = -0.5 * np.exp(xs) * zs + np.exp(xs) * zs + 2 * np.exp(xs)
    assert np.isclose(float(ms.f(xs, ys, zs)), f)
    assert fk.manufactured("x").dim == 1 and fk.manufactured("1").dim == 1
    assert fk.manufactured("x", dim=2).variables == XY


def test_manufactured_solves_with_every_kind_of_face():
    ms = fk.manufactured("cos(x)*exp(y)", kappa="2 + sin(x*y)")
    bc = ms.bc({"left": "neumann", "bottom": ("robin", 1.5)})
    assert {c.kind for c in bc.values()} == {"dirichlet", "neumann", "robin"}
    errors = []
    for n in (4, 8):
        V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=n, order=2)
        errors.append(fk.poisson(V, ms.f, kappa=ms.kappa, bc=bc).error(ms.u))
    assert abs(np.log2(errors[0] / errors[1]) - 3) < 0.2


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: fk.manufactured("r**2", coordinates="polar"), "not available yet"),
        (lambda: fk.manufactured("x", coordinates="elliptic"), "coordinates must be one of"),
        (lambda: fk.manufactured("abs(x - 0.5)"), "Dirac"),
        (lambda: fk.manufactured("x", dim=4), "dim must be"),
        (lambda: fk.manufactured("x*y", dim=1), "'y' is not a coordinate"),
        (lambda: fk.manufactured("x", velocity=(1.0, 2.0)), "velocity must have 1"),
        (lambda: fk.manufactured("x").flux("top"), "unknown face 'top'"),
        (lambda: fk.manufactured("x").bc({"left": "wall"}), "kind must be"),
        (lambda: fk.manufactured("x*y").bc({"left": "periodic"}), "periodic is set on an axis"),
        (lambda: fk.manufactured("open('x')"), "open"),
    ],
)
def test_manufactured_refuses_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()

"""Advection–diffusion -εΔu + b·∇u = f: rates (diffusion-dominated), solvers, bad input."""

import numpy as np
import pytest

import femkron as fk

EPS, B = 0.1, (1.0, 0.5, -0.3)


def exact(*x):
    out = 1.0
    for t in x:
        out = out * np.sin(np.pi * t)
    return out


def source(dim):
    def f(*x):
        out = EPS * dim * np.pi**2 * exact(*x)
        for d in range(dim):
            fs = [np.sin(np.pi * t) for t in x]
            fs[d] = np.pi * np.cos(np.pi * x[d])
            g = 1.0
            for v in fs:
                g = g * v
            out = out + B[d] * g
        return out

    return f


@pytest.mark.parametrize(
    "dim, p, method", [(2, 1, "gmres"), (2, 2, "bicgstab"), (2, 3, "auto"), (3, 2, "gmres")]
)
def test_rates(dim, p, method):
    cells = {2: (4, 8, 16), 3: (2, 4, 8)}[dim]
    errs = []
    for n in cells:
        V = fk.TensorSpace.box([(0, 1)] * dim, cells=n, order=p)
        sol = fk.advection_diffusion(
            V, source(dim), velocity=B[:dim], epsilon=EPS, method=method, rtol=1e-12
        )
        # the solver's contract (femkron/linalg/solve.py): true residual <= 1.01 rtol, or the
        # recurrence's <= rtol with a drift below 10 rtol
        assert sol.info.residual < 10 * 1e-12
        errs.append(sol.error(exact))
    rate = fk.convergence_rate([1 / n for n in cells], errs)
    assert abs(rate - (p + 1)) < 0.3, errs


def test_methods_agree_and_iterations_are_bounded():
    bc = {"left": fk.Dirichlet(1.0), "right": fk.Neumann(0.0), "top": fk.Robin(1.0, 0.0)}
    its = []
    for n in (8, 16, 32):
        V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=n, order=2)
        sols = [
            fk.advection_diffusion(V, 1.0, (1.0, 0.5), 0.1, bc=bc, method=m, rtol=1e-12)
            for m in ("gmres", "bicgstab", "direct")
        ]
        for s in sols[:2]:
            assert np.abs(s.values - sols[2].values).max() < 1e-9
        assert np.all(sols[2].values[0, 1:] == 1.0)  # Dirichlet face (corner: bottom wins)
        its.append(sols[0].info.iterations)
    assert max(its) - min(its) <= 3 and max(its) < 30, its


def test_zero_velocity_is_poisson():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=6, order=2)
    a = fk.advection_diffusion(V, 1.0, (0.0, 0.0), epsilon=2.0)
    b = fk.poisson(V, 1.0, kappa=2.0)
    assert np.abs(a.values - b.values).max() < 1e-12 and a.info.iterations <= 2


@pytest.mark.parametrize(
    "kwargs, exc, words",
    [
        (dict(velocity=(1.0, 2.0, 3.0)), ValueError, ["velocity", "(2,)", "(3,)"]),
        (dict(velocity=[[1.0, 0.0]]), ValueError, ["velocity", "(1, 2)"]),
        (dict(velocity=lambda x, y: x), TypeError, ["velocity", "constant"]),
        (dict(velocity=("a", 1)), TypeError, ["velocity"]),
        (dict(velocity=(np.nan, 1.0)), ValueError, ["velocity", "finite"]),
        (dict(velocity=(1, 0), epsilon=0.0), ValueError, ["epsilon", "> 0"]),
        (dict(velocity=(1, 0), method="cg"), ValueError, ["method", "'cg'", "gmres"]),
        (dict(velocity=(1, 0), bc=fk.Neumann(0.0)), ValueError, ["Dirichlet or Robin"]),
    ],
)
def test_bad_input(kwargs, exc, words):
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=3, order=1)
    with pytest.raises(exc) as err:
        fk.advection_diffusion(V, 1.0, **kwargs)
    assert isinstance(err.value, fk.FemkronError)
    for w in words:
        assert w in str(err.value), (w, str(err.value))

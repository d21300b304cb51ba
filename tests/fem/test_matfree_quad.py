"""p + 1 Gauss points per cell and axis keep the optimal convergence rates for a smooth κ.

Quadrature error model (Ciarlet & Raviart 1972; Strang's first lemma): a rule exact for
polynomials of degree 2p - 1 per axis keeps ‖u - u_h‖_H1 = O(h^p), one exact for degree 2p
keeps ‖u - u_h‖_L2 = O(h^{p+1}) for a smooth κ.  p + 1 Gauss points are exact to degree
2p + 1, so both rates stay optimal; what changes is only the constant (by O(h^{2p+2}) relative
on each element integral).  The solve uses the cost model's operator (CSR for Q1, matrix-free
for Q2), so both paths are covered.
"""

import numpy as np
import pytest

import femkron as fk
from femkron.fem.norms import convergence_rate, error


def u_exact(x, y):
    return np.sin(np.pi * x) * np.sin(np.pi * y)


def kappa(x, y):
    return np.exp(x) * (1.0 + 0.5 * np.sin(np.pi * y))


def f(x, y):
    k = kappa(x, y)
    ux = np.pi * np.cos(np.pi * x) * np.sin(np.pi * y)
    uy = np.pi * np.sin(np.pi * x) * np.cos(np.pi * y)
    ky = np.exp(x) * 0.5 * np.pi * np.cos(np.pi * y)
    return -(k * ux + ky * uy) + 2 * np.pi**2 * k * u_exact(x, y)


def solve(p, cells, quad):
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=cells, order=p)
    bcs = fk.BoundaryConditions(V)
    A = fk.MatrixFreeOperator(V, kappa, bcs=bcs, quad=quad)
    b = bcs.restrict(fk.load_vector(V, f))
    x = fk.make_solver(A, "auto", rtol=1e-13).solve(b)
    u = bcs.extend(x)
    return V, u


@pytest.mark.parametrize("p, cells", [(1, (16, 32)), (2, (6, 12))])
def test_optimal_rates_with_p_plus_one_points(p, cells):
    errs = {"L2": [], "H1": []}
    for n in cells:
        V, u = solve(p, n, p + 1)
        errs["L2"].append(error(V, u, u_exact, "L2"))
        grad = (
            lambda x, y: np.pi * np.cos(np.pi * x) * np.sin(np.pi * y),
            lambda x, y: np.pi * np.sin(np.pi * x) * np.cos(np.pi * y),
        )
        errs["H1"].append(error(V, u, u_exact, "H1", grad=grad))
    h = [1.0 / n for n in cells]
    # asymptotic rates p + 1 and p; ± 0.25 covers the pre-asymptotic drift on these meshes
    assert convergence_rate(h, errs["L2"]) == pytest.approx(p + 1, abs=0.25)
    assert convergence_rate(h, errs["H1"]) == pytest.approx(p, abs=0.25)
    # and the error of the p + 1 rule is that of the p + 2 rule up to the quadrature's
    # O(h^{2p+2}) relative consistency error: within 5 % on the finer mesh
    V, u2 = solve(p, cells[-1], p + 2)
    assert error(V, u2, u_exact, "L2") == pytest.approx(errs["L2"][-1], rel=0.05)


@pytest.mark.parametrize("dim, cells", [(2, 70), (3, 66)])
def test_single_precision_sine_preconditioner(dim, cells):
    """The float32 sine-transform path of the preconditioner equals the float64 one.

    Error model: float32 rounding (6e-8) grown by O(log n) through each transform and the
    diagonal scaling: 1e-5 relative is a wide bound; measured 2-3e-7.
    """
    V = fk.TensorSpace.box([(0, 1)] * dim, cells=cells, order=1)
    bcs = fk.BoundaryConditions(V)
    k = lambda *x: kappa(x[0], x[1])
    A = fk.MatrixFreeOperator(V, k, bcs=bcs, quad=2)
    single = fk.SeparablePreconditioner(A)
    double = fk.SeparablePreconditioner(A, precision="double")
    assert single.fdm.transforms == ("dst",) * dim and single._dst is not None
    r = np.random.default_rng(0).standard_normal(A.shape[0])
    z1, z2 = single.solve(r), double.solve(r)
    assert z1.dtype == np.float64
    assert np.abs(z1 - z2).max() <= 1e-5 * np.abs(z2).max()
    # and the double path is fdm of the fit exactly: S F⁻¹ S r with F the Kronecker sum
    s = double.scaling
    assert np.allclose(z2, s * double.fdm.solve(s * r), rtol=1e-12, atol=0)

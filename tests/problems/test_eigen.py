"""Eigenpairs from 1D eigenpairs against scipy's dense eigh, and eigenvalues against exact ones
(analytic, transcendental) with the Galerkin error model and measured rates."""

import numpy as np
import pytest
import scipy.linalg as sla
from reference_fem import box_eigenvalues, galerkin_constant

import femkron as fk

EPS = np.finfo(float).eps


def constrained(V, bc):
    bcs = fk.BoundaryConditions(V, bc)
    K = fk.stiffness(V)
    robin = bcs.robin_operator()
    if robin is not None:
        K = K + robin
    return bcs, bcs.constrain(K).tocsr(), bcs.constrain(fk.mass(V)).tocsr()


def free_values(bcs, u):
    U = u.reshape(bcs.V.shape)
    for d in range(bcs.V.dim):
        U = np.take(U, bcs.free_dofs(d), axis=d)
    return U.reshape(-1)


def rounding_bounds(K, M, w):
    """How far rounding may move computed eigenvalues of K v = λ M v (Cholesky-based symmetric
    definite solvers, Golub & Van Loan §8.7): |δλ| <= c·ε·(‖K‖₂‖M⁻¹‖₂ + |λ| κ₂(M)), and the
    residual ‖K v - λ M v‖ <= c·ε·(‖K‖₂ + |λ| ‖M‖₂)‖v‖; c = 10 (measured c <= 1.5 for both
    on these sizes, n <= 210)."""
    m = np.linalg.eigvalsh(M)
    norm_k = np.linalg.norm(K, 2)
    values = 10 * EPS * (norm_k / m[0] + np.abs(w) * m[-1] / m[0])
    residuals = 10 * EPS * (norm_k + np.abs(w) * m[-1])
    return values, residuals, m[-1] / m[0]


@pytest.mark.parametrize(
    "dim, bc",
    [
        (2, None),
        (2, {"left": fk.Neumann(0.0), "top": fk.Robin(3.0, 0.0)}),
        (2, {"x": fk.Periodic()}),
        (3, {"front": fk.Neumann(0.0)}),
        (2, fk.Neumann(0.0)),
    ],
)
def test_against_dense_eigh(dim, bc):
    V = fk.TensorSpace.box([(0, 1), (0, 2), (0, 1)][:dim], cells=(4, 3, 3)[:dim], order=2)
    bcs, K, M = constrained(V, bc)
    k = 8
    w, v = fk.eigen(V, k=k, bc=bc)
    Kd, Md = K.toarray(), M.toarray()  # at most 210 dofs: the dense reference is cheap
    ref = sla.eigh(Kd, Md, eigvals_only=True)[:k]
    tol_values, tol_residuals, cond_m = rounding_bounds(Kd, Md, ref)
    assert np.all(np.abs(w - ref) <= tol_values), (w - ref, tol_values)
    # eigenvectors: full dofs, M-orthonormal, K v = λ M v on the free dofs
    Vc = np.column_stack([free_values(bcs, v[:, j]) for j in range(k)])
    # M-orthonormality of vectors built from M_d-orthonormal 1D ones: c·ε·κ₂(M), c = 10
    assert np.abs(Vc.T @ (M @ Vc) - np.eye(k)).max() <= 10 * EPS * cond_m
    residual = np.linalg.norm(K @ Vc - (M @ Vc) * w, axis=0)
    assert np.all(residual <= tol_residuals * np.linalg.norm(Vc, axis=0))


def rounding(V):
    """c·ε·λmax with c = 10: how far rounding may move a computed eigenvalue (Weyl, for the
    1D pencils the eigenvalues are sums of).  λmax is bounded by the sum over axes of the
    largest eigenvalue of the unconstrained 1D pencil (constraints interlace; a Robin term
    α e eᵀ adds at most α / min diag M, far below)."""
    top = sum(
        sla.eigh(s.stiffness().toarray(), s.mass().toarray(), eigvals_only=True)[-1]
        for s in V.spaces
    )
    return 10 * EPS * top


@pytest.mark.parametrize("p", [1, 2, 3])
def test_rate_2p_against_analytic(p):
    # Dirichlet on [0, π] × [0, π]: λ = m² + n²; the first four are 2, 5, 5, 8
    exact = np.array([2.0, 5.0, 5.0, 8.0])
    cells = (2, 4, 8) if p == 3 else (4, 8, 16)
    errs = []
    for n in cells:
        V = fk.TensorSpace.box([(0, np.pi), (0, np.pi)], cells=n, order=p)
        w, _ = fk.eigen(V, k=4)
        assert np.all(w >= exact - rounding(V))  # conforming Galerkin: upper bounds
        errs.append(np.abs(w - exact).max())
    rate = fk.convergence_rate([np.pi / n for n in cells], errs)
    # the next term of the error is O((kh)²) relative to the leading one: 0.3 covers it
    # from kh = 2π/4 on (measured: |rate - 2p| < 0.1)
    assert abs(rate - 2 * p) < 0.3, errs


# Mixed, Robin and periodic conditions against exact eigenvalues: products of 1D modes
# (tests/reference_fem.py), Robin ones as roots of k cos(kL) + α sin(kL) = 0 or
# k sin(kL) - α cos(kL) = 0 by brentq.  "on_curve": every 1D mode is a sine or cosine that a
# uniform mesh samples on the same discrete dispersion relation as Dirichlet modes, so the
# Galerkin error follows λ_h - λ = Σ_d c_p² k_d² (k_d h)^{2p} (1 + O((k_d h)²)) with the
# analytic constant of reference_fem.galerkin_constant; a Robin end shifts that constant
# (measured 0.84-1.0 of it for p = 2), so there only the rate is checked.
MIXED = {
    # name: (bc, (kind, length) per axis, on_curve, cells per unit length at the coarsest)
    "dirichlet-neumann": ({"left": fk.Neumann()}, [("ND", 1.0), ("DD", 2.0)], True, 1),
    "robin-2d": (
        {"left": fk.Neumann(), "top": fk.Robin(3.0)},  # u'(2) + 3 u(2) = 0 on y = 2
        [("ND", 1.0), (("DR", 3.0), 2.0)],
        False,
        1,
    ),
    "periodic": ({"x": fk.Periodic()}, [("P", 1.0), ("DD", 2.0)], True, 1),
    # k tan k = 2; its 6th mode has k = 15.8, so 4 times the cells
    "robin-1d": ({"left": fk.Neumann(), "right": fk.Robin(2.0)}, [(("NR", 2.0), 1.0)], False, 4),
}


@pytest.mark.parametrize("p", [1, 2, 3])
@pytest.mark.parametrize("name", list(MIXED))
def test_mixed_robin_periodic_against_exact_eigenvalues(name, p):
    bc, axes, on_curve, factor = MIXED[name]
    exact, k = box_eigenvalues(axes, 6)  # the 6th and 7th are apart: no multiplet is split
    cells = [n * factor for n in ((3, 6, 12) if p == 3 else (4, 8, 16))]
    errs = []
    for n in cells:  # h = 1/n on every axis
        box = [(0.0, L) for _, L in axes]
        V = fk.TensorSpace.box(box, cells=[round(n * L) for _, L in axes], order=p)
        w, _ = fk.eigen(V, k=6, bc=bc)
        tol = rounding(V)
        assert np.all(w >= exact - tol), (w, exact)  # conforming Galerkin: upper bounds
        if on_curve:
            model = galerkin_constant(p) * (k**2 * (k / n) ** (2 * p)).sum(axis=1)
            # the next term: |O((kh)²)| <= 0.1 (kh)² for p <= 4, kh <= 2 (measured <= 0.05)
            kh = k.max(axis=1) / n
            assert np.all(np.abs(w - exact - model) <= 0.1 * kh**2 * model + tol), (w, exact)
        errs.append(np.abs(w / exact - 1).max())
    rate = fk.convergence_rate([1.0 / n for n in cells], errs)
    assert abs(rate - 2 * p) < 0.3, (rate, errs)  # as in test_rate_2p_against_analytic


def test_bad_k():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=3, order=1)  # 2 × 2 free dofs
    for k in (0, -1, 5):
        with pytest.raises(fk.FemkronValueError, match="k must be"):
            fk.eigen(V, k=k)
    with pytest.raises(fk.FemkronTypeError, match="k must be an integer"):
        fk.eigen(V, k=2.5)
    assert fk.eigen(V, k=4)[0].shape == (4,)

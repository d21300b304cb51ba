"""Linear solvers: fdm, direct, cg and amg against dense solves and each other; fast
diagonalization against dense generalized eigenproblems; preconditioned CG; bad input."""

import numpy as np
import pytest
import scipy.linalg as sla

import femkron as fk
from femkron.kron import StructureError
from femkron.linalg import pcg

METHODS = ("fdm", "direct", "cg", "amg")
EPS = np.finfo(float).eps


def eigenvalue_rounding(K, M, w):
    """How far two symmetric-definite eigensolvers may disagree on the eigenvalues w of
    K v = λ M v: c·ε·(‖K‖₂‖M⁻¹‖₂ + |λ| κ₂(M)) (Golub & Van Loan §8.7), c = 20 (the fdm's
    1D eigensolves and the dense one; measured c <= 2.3)."""
    m = np.linalg.eigvalsh(M)
    return 20 * EPS * (np.linalg.norm(K, 2) / m[0] + np.abs(w) * m[-1] / m[0])


def system(dim, p, bc, graded=True, sigma=0.0):
    spaces = []
    for d in range(dim):
        a, b = [(0.0, 1.0), (-0.5, 1.0), (0.25, 1.0)][d]
        n = (6, 5, 4)[d]
        m = fk.Mesh1D.graded(a, b, n, ratio=1.3) if graded else fk.Mesh1D.uniform(a, b, n)
        spaces.append(fk.Space1D(m, order=p))
    V = fk.TensorSpace(spaces)
    bcs = fk.BoundaryConditions(V, bc)
    A = fk.stiffness(V)
    if sigma:
        A = A + sigma * fk.mass(V)
    robin = bcs.robin_operator()
    if robin is not None:
        A = A + robin
    return V, bcs, bcs.constrain(A)


SYSTEMS = {
    "1d-dirichlet": (1, 3, None),
    "2d-dirichlet": (2, 2, None),
    "2d-mixed": (2, 3, {"left": fk.Neumann(), "bottom": fk.Robin(2.0), "top": fk.Neumann()}),
    "3d-robin": (3, 2, fk.Robin(1.0)),
    "3d-periodic-x": (3, 1, {"x": fk.Periodic(), "front": fk.Neumann()}),
    "2d-order4": (2, 4, {"right": fk.Neumann()}),
}


@pytest.mark.parametrize("name", list(SYSTEMS))
def test_methods_agree_with_dense_solve(name):
    _, _, A = system(*SYSTEMS[name])
    b = np.random.default_rng(len(name)).standard_normal(A.shape[0])
    x_ref = np.linalg.solve(A.toarray(), b)
    for method in METHODS + ("auto",):
        x, info = fk.solve(A, b, method=method, rtol=1e-12)
        assert info.method in METHODS and info.converged
        assert info.residual < 1e-10
        np.testing.assert_allclose(x, x_ref, rtol=0, atol=1e-9 * abs(x_ref).max(), err_msg=method)
        if method in ("cg", "amg"):
            assert info.iterations > 0 and info.residuals[-1] <= 1e-12
            assert len(info.residuals) == info.iterations + 1
        else:
            assert info.iterations == 0
    # auto: a banded LU in 1D, fdm for a separable Kronecker sum in 2D and 3D
    assert fk.solve(A, b)[1].method == ("direct" if A.naxes == 1 else "fdm")


@pytest.mark.parametrize("p", [1, 2, 3, 4])
@pytest.mark.parametrize("bc", ["neumann", "periodic", "mixed"])
def test_singular_methods_agree(p, bc):
    # pure Neumann / periodic: every method returns the solution orthogonal to constants
    conds = {
        "neumann": fk.Neumann(),
        "periodic": fk.Periodic(),
        "mixed": {"x": fk.Periodic(), "bottom": fk.Neumann(), "top": fk.Neumann()},
    }[bc]
    V, bcs, A = system(2, p, conds)
    assert bcs.singular
    b = np.random.default_rng(p).standard_normal(A.shape[0])
    b -= b.mean()  # compatible
    Ad = A.toarray()
    x_ref = np.linalg.lstsq(Ad, b, rcond=None)[0]
    x_ref -= x_ref.mean()
    for method in METHODS:
        x, info = fk.solve(A, b, method=method, singular=True, rtol=1e-12)
        assert abs(x.sum()) < 1e-9 * abs(x).max()
        np.testing.assert_allclose(Ad @ x, b, atol=1e-8 * abs(b).max(), err_msg=method)
        np.testing.assert_allclose(x, x_ref, atol=1e-8 * abs(x_ref).max(), err_msg=method)


def test_fdm_finds_the_mass_factors_at_high_order():
    # a stiffness factor (zero row sums, semidefinite) must not be taken for a mass
    for p in (3, 4, 6):
        V, bcs, A = system(2, p, fk.Neumann(), graded=False)
        fdm = fk.FastDiagonalization(A, singular=True)
        assert fdm.zero_modes.size == 1
        Ms = [(P.T @ s.mass() @ P).toarray() for s, P in zip(V.spaces, bcs.P)]
        Ks = [(P.T @ s.stiffness() @ P).toarray() for s, P in zip(V.spaces, bcs.P)]
        for d in range(2):
            expected = sla.eigh(Ks[d], Ms[d], eigvals_only=True)
            tol = eigenvalue_rounding(Ks[d], Ms[d], expected)
            assert np.all(np.abs(np.sort(fdm.lams[d]) - expected) <= tol), (p, d)


@pytest.mark.parametrize("name", list(SYSTEMS))
def test_fast_diagonalization(name):
    V, bcs, A = system(*SYSTEMS[name])
    fdm = fk.FastDiagonalization(A)
    Ad = A.toarray()
    rng = np.random.default_rng(1)
    b = rng.standard_normal(A.shape[0])
    np.testing.assert_allclose(Ad @ fdm.solve(b), b, atol=1e-9 * abs(b).max())
    B = rng.standard_normal((A.shape[0], 3))
    np.testing.assert_allclose(Ad @ fdm.solve(B), B, atol=1e-9 * abs(B).max())
    np.testing.assert_allclose(fdm(b), fdm.solve(b))
    np.testing.assert_allclose(Ad @ (fdm.aslinearoperator() @ b), b, atol=1e-9)
    # eigenvalues of A u = λ (⊗M) u, against a dense generalized eigensolver (in 1D the
    # operator is one factor, no mass is split off: plain eigenvalues)
    Mc = bcs.constrain(fk.mass(V)).toarray() if V.dim > 1 else np.eye(A.shape[0])
    expected = sla.eigh(Ad, Mc, eigvals_only=True)
    tol = eigenvalue_rounding(Ad, Mc, expected)
    assert np.all(np.abs(np.sort(fdm.eigenvalues()) - expected) <= tol)


def test_fdm_with_reaction_and_explicit_factors():
    V, bcs, A = system(2, 2, None)
    M = bcs.constrain(fk.mass(V))
    for sigma in (5.0, -3.0):  # reaction and (non-resonant) Helmholtz shift
        op = A + sigma * M
        fdm = fk.FastDiagonalization(op)
        assert fdm.sigma == pytest.approx(sigma)
        b = np.ones(op.shape[0])
        np.testing.assert_allclose(op.toarray() @ fdm.solve(b), b, atol=1e-9)
    mats = bcs.axis_matrices()
    fdm = fk.FastDiagonalization(
        stiffness=[K for K, _ in mats], masses=[M for _, M in mats], sigma=2.0
    )
    b = np.arange(A.shape[0], dtype=float)
    np.testing.assert_allclose((A + 2.0 * M).toarray() @ fdm.solve(b), b, atol=1e-8)


def test_fdm_refuses_what_it_cannot_solve():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=3, order=1)
    bcs = fk.BoundaryConditions(V)
    general = bcs.constrain(fk.stiffness(V, kappa=lambda x, y: 1 + x * y))
    with pytest.raises(StructureError, match="not of the form"):
        fk.FastDiagonalization(general)
    assert issubclass(StructureError, fk.FemkronValueError)
    x, info = fk.solve(general, np.ones(general.shape[0]))  # auto falls back
    assert info.method in ("direct", "amg") and "not separable" in info.note
    singular = fk.BoundaryConditions(V, fk.Neumann()).constrain(fk.stiffness(V))
    with pytest.raises(fk.FemkronValueError, match="the operator is singular"):
        fk.FastDiagonalization(singular)
    with pytest.raises(fk.FemkronTypeError, match="operator must be a KronOperator"):
        fk.FastDiagonalization(np.eye(3))


def test_pcg():
    rng = np.random.default_rng(0)
    Q = rng.standard_normal((30, 30))
    A = Q @ Q.T + 30 * np.eye(30)
    b = rng.standard_normal(30)
    x, it, hist = pcg(lambda v: A @ v, b, precond=lambda r: r / np.diag(A), rtol=1e-12)
    np.testing.assert_allclose(x, np.linalg.solve(A, b), rtol=1e-10)
    assert hist[-1] <= 1e-12 and it == len(hist) - 1 and it <= 30
    x0, it0, _ = pcg(lambda v: A @ v, np.zeros(30))
    assert it0 == 0 and not x0.any()
    with pytest.raises(fk.ConvergenceError, match="not positive definite") as info:
        pcg(lambda v: -v, b)
    assert info.value.iterations == 1


def test_convergence_error_and_no_raise():
    _, _, A = system(2, 3, None)
    b = np.ones(A.shape[0])
    with pytest.raises(fk.ConvergenceError, match="cg did not reach rtol") as info:
        fk.solve(A, b, method="cg", maxiter=2)
    assert info.value.iterations == 2 and len(info.value.residuals) == 3
    x, inf = fk.solve(A, b, method="cg", maxiter=2, raise_on_failure=False)
    assert not inf.converged and inf.iterations == 2 and inf.residual > 1e-10


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda A, b: fk.solve(A.toarray(), b), TypeError, "A must be a KronOperator"),
        (lambda A, b: fk.solve(A, b, method="lu"), ValueError, "method must be one of"),
        (lambda A, b: fk.solve(A, b[:-1]), ValueError, r"b must have shape \(\d+,\)"),
        (lambda A, b: fk.solve(A, np.r_[b[:-1], np.nan]), ValueError, "b .*NaN"),
        (lambda A, b: fk.solve(A, b, rtol=0.0), ValueError, "rtol must be > 0"),
        (lambda A, b: fk.solve(A, b, method="cg", maxiter=0), ValueError, "maxiter must be"),
        (lambda A, b: fk.FastDiagonalization(A).solve(b[:3]), ValueError, "b must have"),
    ],
)
def test_bad_input(call, error, match):
    _, _, A = system(2, 1, None)
    b = np.ones(A.shape[0])
    with pytest.raises(fk.FemkronError, match=match) as info:
        call(A, b)
    assert isinstance(info.value, error)

"""Eigenpairs from 1D eigenpairs against scipy's eigsh and analytic eigenvalues."""

import numpy as np
import pytest
import scipy.sparse.linalg as spla

import femkron as fk


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
def test_against_eigsh(dim, bc):
    V = fk.TensorSpace.box([(0, 1), (0, 2), (0, 1)][:dim], cells=(4, 3, 3)[:dim], order=2)
    bcs, K, M = constrained(V, bc)
    k = 8
    w, v = fk.eigen(V, k=k, bc=bc)
    ref = spla.eigsh(K, k=k, M=M, sigma=-1.0, which="LM")[0]
    assert np.allclose(np.sort(ref), w, rtol=1e-9, atol=1e-9)
    # eigenvectors: full dofs, M-orthonormal, K v = λ M v on the free dofs
    Vc = np.column_stack([free_values(bcs, v[:, j]) for j in range(k)])
    assert np.allclose(Vc.T @ (M @ Vc), np.eye(k), atol=1e-10)
    assert np.abs(K @ Vc - (M @ Vc) * w).max() < 1e-8 * max(1.0, w.max())


@pytest.mark.parametrize("p", [1, 2, 3])
def test_rate_2p_against_analytic(p):
    # Dirichlet on [0, π] × [0, π]: λ = m² + n²; the first four are 2, 5, 5, 8
    exact = np.array([2.0, 5.0, 5.0, 8.0])
    cells = (2, 4, 8) if p == 3 else (4, 8, 16)
    errs = []
    for n in cells:
        V = fk.TensorSpace.box([(0, np.pi), (0, np.pi)], cells=n, order=p)
        w, _ = fk.eigen(V, k=4)
        assert np.all(w >= exact - 1e-12)  # conforming Galerkin: upper bounds
        errs.append(np.abs(w - exact).max())
    rate = fk.convergence_rate([np.pi / n for n in cells], errs)
    assert abs(rate - 2 * p) < 0.3, errs


def test_bad_k():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=3, order=1)  # 2 × 2 free dofs
    for k in (0, -1, 5):
        with pytest.raises(fk.FemkronValueError, match="k must be"):
            fk.eigen(V, k=k)
    with pytest.raises(fk.FemkronTypeError, match="k must be an integer"):
        fk.eigen(V, k=2.5)
    assert fk.eigen(V, k=4)[0].shape == (4,)

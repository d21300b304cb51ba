"""Element-by-element assembly against the Kronecker operators and numpy.kron."""

import numpy as np
import pytest

import femkron as fk

BCS = [
    None,
    {},
    {"left": fk.Neumann(1.0), "right": fk.Robin(2.0, 0.5)},
    {"x": fk.Periodic()},
]
CASES = [(1, 3), (2, 1), (2, 2), (3, 1), (3, 2)]


def space(dim, p, graded=False):
    meshes = [
        fk.Mesh1D.graded(0.0, 1.0 + d, 3 + d, ratio=1.3) if graded else fk.Mesh1D.uniform(0, 1, 3)
        for d in range(dim)
    ]
    return fk.TensorSpace([fk.Space1D(m, order=max(1, p - d % 2)) for d, m in enumerate(meshes)])


@pytest.mark.parametrize("dim, p", CASES)
@pytest.mark.parametrize("bc", BCS, ids=["full", "dirichlet", "neumann-robin", "periodic"])
def test_matches_kronecker_operator(dim, p, bc):
    V = space(dim, p, graded=True)
    poly = lambda *x: 2.0 + x[0] * x[-1] + x[0] ** 2  # noqa: E731
    bcs = None if bc is None else fk.BoundaryConditions(V, bc)
    A = fk.assemble(V, kappa=poly, sigma=1.5, bcs=bcs)
    K = fk.stiffness(V, poly) + 1.5 * fk.mass(V)
    if bcs is not None:
        robin = bcs.robin_operator()
        K = bcs.constrain(K if robin is None else K + robin)
    ref = K.toarray()
    assert A.has_canonical_format
    assert A.shape == ref.shape
    assert np.abs(A.toarray() - ref).max() < 1e-12 * np.abs(ref).max()


def test_constant_coefficient_against_numpy_kron():
    V = space(2, 2)
    Kx, Ky = (s.stiffness().toarray() for s in V.spaces)
    Mx, My = (s.mass().toarray() for s in V.spaces)
    ref = 3.0 * (np.kron(Kx, My) + np.kron(Mx, Ky)) + 0.25 * np.kron(Mx, My)
    A = fk.assemble(V, kappa=3.0, sigma=0.25)
    assert np.abs(A.toarray() - ref).max() < 1e-12 * np.abs(ref).max()
    # symmetric, K·1 = 0 without reaction, positive definite with Dirichlet
    A0 = fk.assemble(V, kappa=lambda x, y: 1 + x * y)
    assert abs(A0 - A0.T).max() < 1e-13
    assert np.abs(A0 @ np.ones(V.ndofs)).max() < 1e-12
    Ad = fk.assemble(V, kappa=lambda x, y: 1 + x * y, bcs={}).toarray()
    assert np.linalg.eigvalsh(Ad).min() > 0


def test_anisotropic_fields():
    V = space(2, 2)
    kx = lambda x, y: 1 + x * y  # noqa: E731
    ky = lambda x, y: 2 + x  # noqa: E731
    A = fk.assemble(V, kappa=fk.Anisotropic(kx, ky))
    B = fk.stiffness(V, fk.Anisotropic(kx, ky))
    assert np.abs(A.toarray() - B.toarray()).max() < 1e-12
    # the tuple form is the separable scalar κ = a(x)·b(y), not a tensor
    S = fk.assemble(V, kappa=(lambda x: 1 + x, lambda y: 2 + y))
    T = fk.stiffness(V, (lambda x: 1 + x, lambda y: 2 + y))
    assert np.abs(S.toarray() - T.toarray()).max() < 1e-12


def test_refuses_huge_matrix():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=200, order=3)
    old = fk.set_memory_limit(2**24)  # the coefficient samples fit, the matrix does not
    try:
        with pytest.raises(fk.ResourceError, match="matrix-free"):
            fk.assemble(V, kappa=lambda x, y: 1 + x)
    finally:
        fk.set_memory_limit(old)


def test_bad_arguments():
    V = space(2, 1)
    with pytest.raises(fk.FemkronValueError, match="kappa"):
        fk.assemble(V, kappa=lambda x, y: -1 + 0 * x)
    with pytest.raises(fk.FemkronValueError, match="sigma"):
        fk.assemble(V, sigma=-2.0)
    with pytest.raises(fk.FemkronTypeError, match="V must be"):
        fk.assemble("V")
    with pytest.raises(fk.FemkronValueError, match="quad"):
        fk.assemble(V, quad=(2, 2, 2))

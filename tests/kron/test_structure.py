"""The separable record: made by the operators that know it, carried by the algebra, read by
fast diagonalization; discovery only for hand-built operators.

The reference is dense: the record's pencils ``(K_d, M_d, σ)`` are assembled into
``Σ_d M..K_d..M + σ ⊗M`` with ``numpy.kron`` and compared with ``op.toarray()``, which goes
through the operator's own terms, not the record.
"""

import numpy as np
import pytest
import scipy.sparse as sp

import femkron as fk
from femkron.kron.structure import SeparableStructure, pencils, separable_structure


def dense(A):
    return A.toarray() if sp.issparse(A) else np.asarray(A)


def kron_sum(Ks, Ms, sigma):
    """``Σ_d M..K_d..M + σ ⊗M`` with numpy.kron."""
    D = len(Ks)
    total = 0.0
    for d in range(D + 1):
        out = np.ones((1, 1))
        for e in range(D):
            F = Ks[e] if e == d else Ms[e]
            out = np.kron(out, dense(F))
        total = total + (sigma * out if d == D else out)
    return total


def space(dim, order=2):
    bounds = [(0, 1), (0, 2), (-1, 1)][:dim]
    return fk.TensorSpace.box(bounds, cells=(3, 4, 2)[:dim], order=order)


BCS = {
    "dirichlet": None,
    "robin": {"left": fk.Robin(2.0), "bottom": fk.Neumann(0.0), "top": fk.Robin(0.5, 1.0)},
    "periodic": {"x": fk.Periodic(), "bottom": fk.Robin(1.5)},
}


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("bc", sorted(BCS))
@pytest.mark.parametrize("sigma", [0.0, 3.0, -2.0])
def test_record_of_constrained_operators_matches_dense_kron(dim, bc, sigma):
    V = space(dim)
    bcs = fk.BoundaryConditions(V, BCS[bc])
    A = fk.stiffness(V, 1.7)
    robin = bcs.robin_operator()
    if robin is not None:
        A = A + robin
    if sigma:
        A = A + sigma * fk.mass(V)
    Ac = bcs.constrain(A)
    assert Ac.structure is not None
    Ks, Ms, s = pencils(Ac)
    assert s == pytest.approx(sigma)
    expected = Ac.toarray()
    np.testing.assert_allclose(kron_sum(Ks, Ms, s), expected, atol=1e-13 * abs(expected).max())


def test_separable_and_anisotropic_coefficients_carry_a_record():
    V = space(2)
    for kappa in [(lambda x: 1 + x, lambda y: 2 + y**2), fk.Anisotropic(1.0, 3.0)]:
        A = fk.stiffness(V, kappa)
        assert A.structure is not None
        Ks, Ms, s = pencils(A)
        np.testing.assert_allclose(kron_sum(Ks, Ms, s), A.toarray(), atol=1e-12)


def test_general_coefficient_has_no_record_and_is_not_separable():
    V = space(2)
    A = fk.stiffness(V, lambda x, y: 1 + x * y)
    assert A.structure is None
    with pytest.raises(fk.StructureError) as err:
        pencils(A)
    assert err.value.reason == "not-separable"
    # adding a separable operator to it cannot make a record either
    assert (A + fk.mass(V)).structure is None


def test_weighted_mass_breaks_the_record_on_a_sum():
    V = space(2)
    A = fk.stiffness(V) + fk.mass(V, (lambda x: 1 + x, 1.0))
    assert A.structure is None


def test_algebra_keeps_the_record():
    V = space(3)
    A = fk.stiffness(V) + 2.0 * fk.mass(V)
    for op in [3.0 * A, A / 2.0, -A, A - fk.mass(V), A.T, A.restrict([[0, 1], None, [1, 2]])]:
        assert op.structure is not None
        Ks, Ms, s = pencils(op)
        np.testing.assert_allclose(kron_sum(Ks, Ms, s), op.toarray(), atol=1e-12)


def test_record_and_discovery_agree():
    V = space(2, order=3)
    bcs = fk.BoundaryConditions(V, BCS["robin"])
    A = bcs.constrain(fk.stiffness(V) + bcs.robin_operator() + 0.5 * fk.mass(V))
    carried = kron_sum(*pencils(A))
    found = kron_sum(*separable_structure(A))
    np.testing.assert_allclose(carried, found, atol=1e-12)
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    x1 = fk.FastDiagonalization(A).solve(b)
    hand = fk.KronOperator(A.terms)  # the same terms without a record: discovered
    assert hand.structure is None
    x2 = fk.FastDiagonalization(hand).solve(b)
    np.testing.assert_allclose(x1, x2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(A.toarray() @ x1, b, atol=1e-10 * abs(b).max())


def test_one_dimensional_pencil_keeps_its_mass_when_asked():
    V = space(1)
    A = fk.stiffness(V) + 2.0 * fk.mass(V)
    Ks, Ms, s = pencils(A, split_1d=True)
    np.testing.assert_allclose(dense(Ms[0]), fk.mass(V).toarray())
    np.testing.assert_allclose(dense(Ks[0]) + s * dense(Ms[0]), A.toarray(), atol=1e-12)
    # without split_1d a 1D operator is one factor (M = I), as in 0.1
    Ks, Ms, s = pencils(A)
    np.testing.assert_allclose(dense(Ms[0]), np.eye(A.shape[0]))


def test_a_record_that_does_not_fit_the_terms_is_dropped():
    M, K = np.eye(2), np.array([[2.0, -1.0], [-1.0, 2.0]])
    rec = SeparableStructure([M, M], roles=(0, 1))
    op = fk.KronOperator([(1.0, (K, M.copy())), (1.0, (M.copy(), K))], structure=rec)
    assert op.structure is None  # the masses are other objects: not trusted
    with pytest.raises(TypeError, match="structure"):
        fk.KronOperator([(1.0, (K, M))], structure="separable")


def test_space_matrices_are_shared_and_read_only():
    s = space(1).spaces[0]
    assert s.mass() is s.mass() and s.stiffness() is s.stiffness()
    with pytest.raises(ValueError):
        s.mass().data[0] = 1.0
    assert s.mass(quad=s.order + 3) is not s.mass()

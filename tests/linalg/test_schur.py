"""The union solve (exact fdm per box, CG on the interface Schur complement) against a sparse
LU of the element-by-element system (``tests/union_reference.py``).

Error model: the interface CG stops at a true residual ``‖b - A x‖ ≤ rtol ‖b‖`` (rtol = 1e-12
here), so ``‖x - x*‖ / ‖x*‖ ≤ cond(A) rtol`` plus the rounding of the LU and of the fast
diagonalizations (``cond(A) ε`` each); the tests bound it by ``10 cond(A) rtol`` with the
condition number computed densely.
"""

import numpy as np
import pytest
import scipy.sparse.linalg as spla
from union_reference import BruteForce, plane_bc

import femkron as fk
from femkron.fem.union_ops import UnionConditions, union_operator
from femkron.linalg.schur import SchurComplementSolver

RTOL = 1e-12


def _against_lu(U, bc, table, default, f, sigma=0.0, krylov="cg"):
    ref = BruteForce(
        [s.mesh.nodes for s in U.spaces],
        U.orders[0],
        U.cell_mask,
        plane_bc(table, default),
        sigma=sigma,
    )
    Ar, br, free, fixed, g = ref.system(f)
    x_lu = spla.splu(Ar.tocsc()).solve(br)
    conds = UnionConditions(U, bc)
    A = union_operator(U, conds, 1.0, sigma)
    solver = SchurComplementSolver(A, rtol=RTOL, krylov=krylov)
    x = solver.solve(br)
    cond = np.linalg.cond(Ar.toarray())
    err = np.linalg.norm(x - x_lu) / np.linalg.norm(x_lu)
    assert err <= 10 * cond * RTOL, (err, cond)
    return solver


MIXED = {
    "x=0": fk.Neumann(lambda x, y: 1 + y),
    "y=0": fk.Robin(3.0, lambda x, y: x),
    "x=-1": fk.Dirichlet(lambda x, y: y * y),
    "boundary": fk.Neumann(0.25),
}
MIXED_TABLE = {
    (0, 0.0): ("neumann", lambda x, y: 1 + y),
    (1, 0.0): ("robin", 3.0, lambda x, y: x),
    (0, -1.0): ("dirichlet", lambda x, y: y * y),
}


@pytest.mark.parametrize("order", [1, 2, 3])
def test_lshape_mixed_faces_equal_sparse_lu(order):
    L = fk.BoxUnion.lshape(cells=8, order=order)
    s = _against_lu(L, MIXED, MIXED_TABLE, ("neumann", 0.25), lambda x, y: np.cos(x + 2 * y))
    assert 1 <= s.iterations <= 20


def test_dirichlet_lshape_equals_sparse_lu_in_few_iterations():
    L = fk.BoxUnion.lshape(cells=8, order=2)
    s = _against_lu(L, None, {}, ("dirichlet", 0.0), 1.0)
    assert s.iterations <= 8 and s.leftover.size == 0


def test_step_tshape_cross_equal_sparse_lu():
    for U in (
        fk.BoxUnion.step(cells=4, order=2, length=3.0),
        fk.BoxUnion.tshape(cells=4, order=2),
        fk.BoxUnion.cross(cells=4, order=1),
    ):
        a = U.bounds[0][0]
        bc = {f"x={a:g}": fk.Dirichlet(1.0), "boundary": fk.Neumann(0.5)}
        s = _against_lu(U, bc, {(0, a): ("dirichlet", 1.0)}, ("neumann", 0.5), 1.0)
        assert s.iterations <= 25


def test_fichera_mixed_faces_equal_sparse_lu():
    F = fk.BoxUnion.fichera(cells=4, order=1)
    bc = {"z=0": fk.Robin(1.0, 1.0), "x=-1": fk.Dirichlet(0.5), "boundary": fk.Neumann(-1.0)}
    table = {(2, 0.0): ("robin", 1.0, 1.0), (0, -1.0): ("dirichlet", 0.5)}
    s = _against_lu(F, bc, table, ("neumann", -1.0), lambda x, y, z: 1 + x * y * z)
    assert s.iterations <= 30


@pytest.mark.parametrize("order", [1, 2, 4])
def test_one_full_shared_face_takes_one_iteration(order):
    # two boxes sharing the whole face x = 1: S is diagonal in that face's eigenbasis, and the
    # preconditioner is S itself, for Dirichlet, Neumann and Robin ends of the face alike
    V = fk.TensorSpace.box([(0, 3), (0, 1)], cells=(9, 4), order=order)
    U = fk.BoxUnion(V, keep=[((0, 1), (0, 1)), ((1, 3), (0, 1))])
    for bc, table, default in (
        (None, {}, ("dirichlet", 0.0)),
        (
            {"y=0": fk.Neumann(1.0), "y=1": fk.Robin(2.0, 0.5), "x=3": fk.Robin(1.0)},
            {
                (1, 0.0): ("neumann", 1.0),
                (1, 1.0): ("robin", 2.0, 0.5),
                (0, 3.0): ("robin", 1.0, 0.0),
            },
            ("dirichlet", 0.0),
        ),
    ):
        s = _against_lu(U, bc, table, default, lambda x, y: x + y)
        assert s.iterations == 1


def test_pure_neumann_union_is_solved_up_to_constants():
    L = fk.BoxUnion.lshape(cells=8, order=2)
    conds = UnionConditions(L, fk.Neumann())
    A = union_operator(L, conds)
    rng = np.random.default_rng(1)
    b = rng.standard_normal(A.shape[0])
    b -= b.mean()
    x = SchurComplementSolver(A, rtol=RTOL, singular=True).solve(b)
    assert np.linalg.norm(A @ x - b) <= 1e-10 * np.linalg.norm(b)
    assert abs(x.mean()) < 1e-12 * np.abs(x).max()


def test_indefinite_helmholtz_by_gmres_equals_sparse_lu():
    L = fk.BoxUnion.lshape(cells=8, order=2)
    _against_lu(L, None, {}, ("dirichlet", 0.0), 1.0, sigma=-30.0, krylov="gmres")


def test_auto_picks_the_schur_solver_and_reports_iterations():
    L = fk.BoxUnion.lshape(cells=8, order=2)
    A = union_operator(L, UnionConditions(L))
    s = fk.make_solver(A)
    assert s.method == "schur" and "union of boxes" in s.info.note
    x = s.solve(np.ones(A.shape[0]))
    assert s.info.iterations >= 1 and s.info.residual < 1e-10
    with pytest.raises(fk.StructureError) as err:
        fk.make_solver(A.tocsr(), "schur")
    assert err.value.reason == "not-union"
    assert np.allclose(fk.make_solver(A, "direct").solve(np.ones(A.shape[0])), x, atol=1e-9)


def test_union_benchmark_case_and_its_target():
    from femkron.bench.targets import targets
    from femkron.bench.union import union_case

    rows = union_case(1, 3000, repeats=1)
    assert [r["method"] for r in rows] == ["schur", "amg"]
    for r in rows:
        # both stop at the relative residual 1e-8: they differ by at most cond(A) 1e-8, with
        # cond(A) ≈ (2 / (π h))² ≈ 1e3 for the 64 cells per axis of 3000 dofs
        assert r["residual"] <= 1e-8 and r["max_diff"] < 1e-4 and r["kind"] == "union"
    (goal,) = [t for t in targets(rows) if "L-shape" in t["target"]]
    assert goal["goal"] == 10.0 and goal["judged"] is False  # 3000 dofs: not the target size


def test_a_box_too_large_for_dense_eigenvectors_is_refused_and_auto_falls_back(monkeypatch):
    import femkron.linalg.cost as cost
    import femkron.linalg.schur as schur

    # Q2 axes are dense (not Toeplitz): with the limit lowered to 10 dofs the L's boxes pass it
    monkeypatch.setattr(cost, "DENSE_AXIS_MAX", 10)
    monkeypatch.setattr(schur, "DENSE_AXIS_MAX", 10)
    L = fk.BoxUnion.lshape(cells=8, order=2)
    A = union_operator(L, UnionConditions(L))
    s = fk.make_solver(A)
    assert s.method == "direct" and "dense eigenproblem" in s.info.note
    with pytest.raises(fk.StructureError) as err:
        fk.make_solver(A, "schur")
    assert err.value.reason == "fdm-too-large"

"""Nested diagonalization against sparse LU and dense eigensolvers on the assembled systems."""

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse.linalg as spla

import femkron as fk
from femkron.kron.nested import (
    NestedDiagonalization,
    PoleConstrainedOperator,
    nested_structure,
    pole_prolongation,
)


def _system(name):
    if name == "disk":
        V = fk.TensorSpace.disk(radius=1.0, cells=(5, 12), order=2)
        return V, {}, 3.0
    if name == "disk-fourier":  # uniform periodic Q1 θ: real FFTs instead of eigenvectors
        V = fk.TensorSpace.disk(radius=2.0, cells=(7, 20), order=1)
        return V, {"outer": fk.Robin(1.5)}, 0.0
    if name == "annulus-robin":
        V = fk.TensorSpace.annulus(0.5, 1.0, cells=(6, 10), order=3)
        return V, {"inner": fk.Robin(2.0), "outer": fk.Neumann()}, 1.0
    if name == "sector-neumann":  # the pole stays: the θ pencil has the constant mode
        V = fk.TensorSpace.sector(0.0, 1.0, angle=(0.0, 2.0), cells=(4, 6), order=2)
        return V, {"start": fk.Neumann(), "end": fk.Neumann()}, 0.5
    if name == "cylinder":
        V = fk.TensorSpace.cylinder(radius=1.0, height=2.0, cells=(3, 8, 3), order=2)
        return V, {"bottom": fk.Neumann(), "top": fk.Robin(1.0)}, 2.0
    if name == "shell":
        V = fk.TensorSpace.spherical_shell(0.5, 1.0, cells=(3, 5, 8), order=2)
        return V, {"inner": fk.Neumann()}, 1.5
    raise AssertionError(name)


@pytest.mark.parametrize(
    "name", ["disk", "disk-fourier", "annulus-robin", "sector-neumann", "cylinder", "shell"]
)
def test_nested_solve_equals_sparse_lu(name):
    V, bc, sigma = _system(name)
    bcs = fk.BoundaryConditions(V, bc)
    A = fk.stiffness(V) + sigma * fk.mass(V)
    robin = bcs.robin_operator()
    if robin is not None:
        A = A + robin
    Ac = bcs.constrain(A)
    solver = NestedDiagonalization(Ac)
    b = np.random.default_rng(3).standard_normal(Ac.shape[0])
    x = solver.solve(b)
    csr = Ac.tocsr()
    ref = spla.spsolve(csr.tocsc(), b)
    # both backward stable: the difference is bounded by cond(A)·eps (cond < 1e6 here)
    cond = np.linalg.cond(csr.toarray())
    assert np.linalg.norm(csr @ x - b) <= 1e-13 * np.linalg.norm(b) * max(1.0, cond**0.5)
    assert np.linalg.norm(x - ref) <= 50 * np.finfo(float).eps * cond * np.linalg.norm(ref)
    if name in ("disk", "disk-fourier", "sector-neumann", "cylinder"):
        assert isinstance(Ac, PoleConstrainedOperator)
    if name == "disk-fourier":
        assert solver.steps[0].S is None  # the real Fourier transform was used


def test_helmholtz_is_solved_exactly_too():
    # indefinite: banded LU with pivoting per mode
    V = fk.TensorSpace.annulus(0.5, 1.0, cells=(6, 12), order=2)
    Ac = fk.BoundaryConditions(V).constrain(fk.stiffness(V) - 40.0 * fk.mass(V))
    b = np.random.default_rng(0).standard_normal(Ac.shape[0])
    x = NestedDiagonalization(Ac).solve(b)
    ref = spla.spsolve(Ac.tocsr().tocsc(), b)
    assert np.linalg.norm(x - ref) <= 1e-9 * np.linalg.norm(ref)


def test_pure_neumann_disk_singular_solve():
    D = fk.TensorSpace.disk(radius=1.0, cells=(4, 8), order=2)
    Ac = fk.BoundaryConditions(D, fk.Neumann()).constrain(fk.stiffness(D))
    b = np.random.default_rng(1).standard_normal(Ac.shape[0])
    b -= b.mean()  # compatible: orthogonal to the kernel (the constants, reduced)
    x = NestedDiagonalization(Ac, singular=True).solve(b)
    assert np.linalg.norm(Ac @ x - b) <= 1e-12 * np.linalg.norm(b)
    with pytest.raises(fk.FemkronValueError) as err:
        NestedDiagonalization(Ac)
    assert err.value.reason == "singular"


@pytest.mark.parametrize("name", ["disk", "disk-fourier", "cylinder", "shell"])
def test_nested_eigenpairs_equal_dense_eigh(name):
    V, bc, _ = _system(name)
    bcs = fk.BoundaryConditions(V, bc)
    A = fk.stiffness(V)
    if bcs.robin_operator() is not None:
        A = A + bcs.robin_operator()
    Ac, Mc = bcs.constrain(A), bcs.constrain(fk.mass(V))
    w, X = NestedDiagonalization(Ac, mass=Mc).eigenpairs(8)
    ref = sla.eigh(Ac.toarray(), Mc.toarray(), eigvals_only=True)[:8]
    assert np.allclose(w, ref, rtol=1e-10, atol=1e-10)
    Md = Mc.toarray()
    assert np.allclose(X.T @ Md @ X, np.eye(8), atol=1e-10)
    assert np.allclose(Ac.toarray() @ X, Md @ X * w, atol=1e-8 * max(1.0, w.max()))


def test_structure_is_read_from_terms():
    C = fk.TensorSpace.cylinder(1.0, 1.0, cells=(2, 4, 2), order=1)
    assert nested_structure(fk.BoundaryConditions(C).constrain(fk.stiffness(C))) == (0, [1, 2])
    H = fk.TensorSpace.spherical_shell(0.5, 1.0, cells=(2, 3, 4), order=1)
    b, order = nested_structure(fk.BoundaryConditions(H).constrain(fk.stiffness(H)))
    assert order[0] == 2  # the azimuth first: θ is a pencil per azimuthal mode
    # a general low-rank coefficient is not nested
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=1)
    A = fk.BoundaryConditions(V).constrain(fk.stiffness(V, lambda x, y: 1 + x * y + x**2 * y**3))
    with pytest.raises(fk.StructureError):
        nested_structure(A)


def test_pole_prolongation_collapses_the_centre():
    P = pole_prolongation((3, 4), [(0, 0, (1,))]).toarray()
    assert P.shape == (12, 9)
    assert np.all(P[:4, 0] == 1) and P[:4, 1:].sum() == 0
    assert np.all(P.sum(axis=1) == 1)


def test_make_solver_and_auto_choose_nested():
    D = fk.TensorSpace.disk(radius=1.0, cells=(4, 8), order=2)
    Ac = fk.BoundaryConditions(D).constrain(fk.stiffness(D) + fk.mass(D))
    s = fk.make_solver(Ac)
    assert s.info.method == "nested"
    b = np.ones(Ac.shape[0])
    assert np.linalg.norm(Ac @ s.solve(b) - b) < 1e-12 * np.linalg.norm(b)
    assert fk.make_solver(Ac, "fdm").info.method == "nested"
    assert fk.make_solver(Ac, "direct").info.method == "direct"

"""Boundary conditions: constrained operators against dense ``Pᵀ A P`` built here by hand,
Robin terms, liftings and face loads against dense references, and bad input."""

import functools

import numpy as np
import pytest
import scipy.sparse as sp
from reference_fem import assemble

import femkron as fk

FACE_AXIS = {"left": (0, 0), "right": (0, 1), "bottom": (1, 0), "top": (1, 1), "front": (2, 0)}
FACE_AXIS["back"] = (2, 1)


def kron(*mats):
    return functools.reduce(np.kron, [m.toarray() if sp.issparse(m) else m for m in mats])


def g_face(*x):
    return 1.0 + x[0] - 0.5 * x[-1] ** 2 + 0.25 * sum(x)


def space(dim, p, family, graded):
    bounds = [(0.0, 1.0), (-0.5, 1.0), (0.25, 1.0)][:dim]
    cells = [3, 2, 2][:dim]
    spaces = []
    for d, (a, b) in enumerate(bounds):
        m = fk.Mesh1D.graded(a, b, cells[d], 1.5) if graded else fk.Mesh1D.uniform(a, b, cells[d])
        spaces.append(fk.Space1D(m, order=p, nodes=family))
    return fk.TensorSpace(spaces)


def configs(dim):
    """Named boundary-condition dicts covering every kind and mixes."""
    out = {
        "dirichlet0": None,
        "dirichlet": {name: fk.Dirichlet(g_face) for name in list(FACE_AXIS)[: 2 * dim]},
        "neumann": fk.Neumann(g_face),
        "robin": fk.Robin(1.5, g_face),
        "periodic": fk.Periodic(),
    }
    if dim == 1:
        out["mixed"] = {"left": fk.Robin(2.0, 1.0), "right": fk.Neumann(-0.5)}
        out["dirichlet-neumann"] = {"left": fk.Dirichlet(0.5), "right": fk.Neumann(g_face)}
    if dim >= 2:
        out["mixed"] = {
            "left": fk.Dirichlet(g_face),
            "right": fk.Neumann(g_face),
            "bottom": fk.Robin(0.7, g_face),
            "top": fk.Neumann(0.0),
        }
        out["periodic-x"] = {
            "x": fk.Periodic(),
            "bottom": fk.Robin(2.0, 1.0),
            "top": fk.Neumann(1.0),
        }
    if dim == 3:
        out["mixed"]["front"] = fk.Robin(1.0, 0.5)  # back: homogeneous Dirichlet (not named)
        out["periodic-z"] = {
            "z": fk.Periodic(),
            "left": fk.Neumann(g_face),
            "right": fk.Robin(3.0, g_face),
            "y": fk.Periodic(),
        }
    return out


def faces_of(bc, dim):
    """Per axis: 'periodic' or (lower, upper) conditions, built here from the dict."""
    if bc is None:
        bc = {}
    if isinstance(bc, fk.Periodic):
        return ["periodic"] * dim
    if isinstance(bc, fk.Condition):
        return [(bc, bc)] * dim
    axes = []
    for d in range(dim):
        if "xyz"[d] in bc:
            axes.append("periodic")
            continue
        lo, hi = [n for n, (a, _) in FACE_AXIS.items() if a == d]
        axes.append((bc.get(lo, fk.Dirichlet(0.0)), bc.get(hi, fk.Dirichlet(0.0))))
    return axes


def prolongation(n, ax):
    if ax == "periodic":
        P = np.eye(n)[:, : n - 1]
        P[n - 1, 0] = 1.0
        return P
    keep = [
        i
        for i in range(n)
        if not (
            (i == 0 and ax[0].kind == "dirichlet") or (i == n - 1 and ax[1].kind == "dirichlet")
        )
    ]
    return np.eye(n)[:, keep]


def reference_system(V, bc):
    """Dense full operator (stiffness + Robin), boundary load, lifting and P by hand."""
    D = V.dim
    axes = faces_of(bc, D)
    K = [s.stiffness().toarray() for s in V.spaces]
    M = [s.mass().toarray() for s in V.spaces]
    A = sum(kron(*[K[e] if e == d else M[e] for e in range(D)]) for d in range(D))
    load = np.zeros(V.ndofs)
    lift = np.zeros(V.shape)
    for d, ax in enumerate(axes):
        if ax == "periodic":
            continue
        for side, cond in enumerate(ax):
            n = V.shape[d]
            e = np.zeros((n, n))
            e[-side, -side] = 1.0  # side 0: [0, 0], side 1: [-1, -1]
            point = V.spaces[d].mesh.b if side else V.spaces[d].mesh.a
            if cond.kind == "robin":
                A = A + cond.alpha * kron(*[e if k == d else M[k] for k in range(D)])
            if cond.kind in ("neumann", "robin"):
                g = cond.flux if cond.kind == "neumann" else cond.g
                gfun = (lambda *x, c=g: c + 0 * x[0]) if np.isscalar(g) else g
                unit = np.zeros(n)
                unit[-side] = 1.0
                if D == 1:
                    face = np.array([gfun(np.array([point]))[0]])
                else:
                    others = [s for k, s in enumerate(V.spaces) if k != d]

                    def on_face(*xs, d=d, point=point, gfun=gfun):
                        full = list(xs)
                        full.insert(d, np.full_like(xs[0], point))
                        return gfun(*full)

                    _, _, _, face = assemble(
                        [(s.mesh.nodes, s.order, s.nodes) for s in others],
                        q=[s.order + 3 for s in others],
                        f=on_face,
                    )
                face = face.reshape([s.ndofs for k, s in enumerate(V.spaces) if k != d])
                load += np.moveaxis(np.multiply.outer(unit, face), 0, d).reshape(-1)
            if cond.kind == "dirichlet":
                idx = [slice(None)] * D
                idx[d] = -side if side else 0
                grids = [g[tuple(idx)] for g in V.grid()]
                grids[d] = np.full_like(grids[0], point)
                value = cond.value
                lift[tuple(idx)] = value(*grids) if callable(value) else value
    P = functools.reduce(np.kron, [prolongation(n, ax) for n, ax in zip(V.shape, axes)])
    return A, load, lift.reshape(-1), P, axes


CASES = [
    (dim, p, fam, graded, name)
    for dim in (1, 2, 3)
    for p in ((1, 2, 3, 4) if dim < 3 else (1, 2, 3))
    for fam in ("gll", "equispaced")
    for graded in (False, True)
    for name in configs(dim)
    if dim < 3
    or (fam == "gll" and (p < 3 or (graded and name in ("mixed", "periodic-z"))))
    or (fam, p, graded) == ("equispaced", 2, True)
]
IDS = [f"{d}d-p{p}-{fam}-{'graded' if g else 'uniform'}-{n}" for d, p, fam, g, n in CASES]


@pytest.mark.parametrize("dim, p, family, graded, name", CASES, ids=IDS)
def test_constrained_system_matches_dense_reference(dim, p, family, graded, name):
    V = space(dim, p, family, graded)
    bc = configs(dim)[name]
    bcs = fk.BoundaryConditions(V, bc)
    A_ref, load_ref, lift_ref, P, axes = reference_system(V, bc)
    # the operator: stiffness plus Robin terms, constrained by (⊗P)ᵀ · (⊗P)
    A = fk.stiffness(V)
    robin = bcs.robin_operator()
    if robin is not None:
        A = A + robin
    np.testing.assert_allclose(A.toarray(), A_ref, atol=1e-12 * abs(A_ref).max())
    Ac = bcs.constrain(A)
    assert isinstance(Ac, fk.KronOperator) and len(Ac.terms) == len(A.terms)
    assert Ac.shape == (P.shape[1], P.shape[1]) and bcs.ndofs == P.shape[1]
    np.testing.assert_allclose(Ac.toarray(), P.T @ A_ref @ P, atol=1e-12 * abs(A_ref).max())
    np.testing.assert_allclose(kron(*bcs.P), P)
    # data: face loads and the Dirichlet lifting
    bl = bcs.boundary_load()
    np.testing.assert_allclose(np.zeros(V.ndofs) if bl is None else bl, load_ref, atol=1e-13)
    lift = bcs.boundary_values()
    np.testing.assert_allclose(np.zeros(V.ndofs) if lift is None else lift, lift_ref, atol=1e-14)
    # restriction and extension are Pᵀ and P
    rng = np.random.default_rng(dim * 10 + p)
    v = rng.standard_normal(V.ndofs)
    np.testing.assert_allclose(bcs.restrict(v), P.T @ v, atol=1e-13)
    w = rng.standard_normal(P.shape[1])
    np.testing.assert_allclose(bcs.extend(w), P @ w, atol=1e-14)
    np.testing.assert_allclose(bcs.extend(w, lift_ref), P @ w + lift_ref, atol=1e-14)
    # symmetric; positive definite unless constants are in the kernel
    Cd = Ac.toarray()
    np.testing.assert_allclose(Cd, Cd.T, atol=1e-12 * abs(Cd).max())
    ev = np.linalg.eigvalsh(Cd)
    if bcs.singular:
        assert abs(ev[0]) < 1e-10 * ev[-1] and ev[1] > 1e-8 * ev[-1]
        np.testing.assert_allclose(Ac @ np.ones(Ac.shape[0]), 0.0, atol=1e-11 * ev[-1])
    else:
        assert ev[0] > 1e-8 * ev[-1]


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_singular_flag_and_shape(dim):
    V = space(dim, 2, "gll", False)
    for name, bc in configs(dim).items():
        bcs = fk.BoundaryConditions(V, bc)
        axes = faces_of(bc, dim)
        expected = all(ax == "periodic" or all(c.kind == "neumann" for c in ax) for ax in axes)
        assert bcs.singular == expected, name
        assert bcs.shape == tuple(prolongation(n, ax).shape[1] for n, ax in zip(V.shape, axes))
        for d in range(dim):
            P = prolongation(V.shape[d], axes[d])
            np.testing.assert_array_equal(bcs.free_dofs(d), P.argmax(axis=0))
    assert fk.BoundaryConditions(V, fk.Robin(0.0)).singular  # alpha = 0 is Neumann


def test_axis_matrices_fold_robin_into_stiffness():
    V = space(2, 3, "gll", True)
    bc = {"left": fk.Robin(2.0), "right": fk.Neumann(), "y": fk.Periodic()}
    bcs = fk.BoundaryConditions(V, bc)
    mats = bcs.axis_matrices(kappa=1.5)
    axes = faces_of(bc, 2)
    for d, (K, M) in enumerate(mats):
        s = V.spaces[d]
        P = prolongation(s.ndofs, axes[d])
        Kd = 1.5 * s.stiffness().toarray()
        if d == 0:
            Kd[0, 0] += 2.0
        np.testing.assert_allclose(K, P.T @ Kd @ P, atol=1e-12)
        np.testing.assert_allclose(M, P.T @ s.mass().toarray() @ P, atol=1e-14)


def test_describe():
    V = space(2, 1, "gll", False)
    lines = fk.BoundaryConditions(V, {"left": fk.Neumann(1.0), "y": fk.Periodic()}).describe()
    assert lines == ["x: left Neumann(1.0), right Dirichlet(0.0)", "y: periodic"]
    assert repr(fk.Robin(2.0, 1.0)) == "Robin(2.0, 1.0)"
    assert repr(fk.Dirichlet(g_face)) == "Dirichlet(g_face)"


@pytest.mark.parametrize(
    "bc, error, match",
    [
        ({"north": fk.Dirichlet()}, ValueError, "unknown face 'north' in bc; accepted for 2D"),
        ({"front": fk.Dirichlet()}, ValueError, "unknown face 'front'"),
        ({"z": fk.Periodic()}, ValueError, "unknown face 'z'"),
        ({0: fk.Dirichlet()}, ValueError, "unknown face 0"),
        ({"left": 0.0}, TypeError, r"bc\['left'\] must be Dirichlet, Neumann, Robin or Periodic"),
        ({"left": "dirichlet"}, TypeError, r"bc\['left'\] must be"),
        ({"left": fk.Periodic()}, ValueError, r"Periodic\(\) is named by its axis"),
        ({"x": fk.Dirichlet()}, ValueError, r"bc\['x'\]: an axis name takes Periodic\(\)"),
        (
            {"x": fk.Periodic(), "left": fk.Neumann()},
            ValueError,
            "axis 'x' is periodic and also has a condition on a face",
        ),
        (
            {"y": fk.Periodic(), "top": fk.Dirichlet(1.0)},
            ValueError,
            "axis 'y' is periodic and also has a condition",
        ),
        ([fk.Dirichlet()], TypeError, "bc must be a dict"),
        ("dirichlet", TypeError, "bc must be a dict"),
    ],
)
def test_bad_bc(bc, error, match):
    V = space(2, 1, "gll", False)
    with pytest.raises(fk.FemkronError, match=match) as info:
        fk.BoundaryConditions(V, bc)
    assert isinstance(info.value, error)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: fk.Dirichlet("a"), TypeError, "value must be a number or a callable"),
        (lambda: fk.Dirichlet(np.nan), ValueError, "value must be finite"),
        (lambda: fk.Neumann(None), TypeError, "flux must be a number or a callable"),
        (lambda: fk.Robin(lambda x: x, 1.0), TypeError, "alpha must be a real number"),
        (lambda: fk.Robin(np.inf), ValueError, "alpha must be finite"),
        (lambda: fk.Robin(1.0, "g"), TypeError, "g must be a number or a callable"),
    ],
)
def test_bad_conditions(call, error, match):
    with pytest.raises(fk.FemkronError, match=match) as info:
        call()
    assert isinstance(info.value, error)


def test_bad_boundary_data_named_at_use():
    V = space(2, 1, "gll", False)
    bcs = fk.BoundaryConditions(V, {"left": fk.Dirichlet(lambda x, y: np.ones(7))})
    with pytest.raises(fk.FemkronValueError, match="Dirichlet value on face left"):
        bcs.boundary_values()
    bcs = fk.BoundaryConditions(V, {"top": fk.Neumann(lambda x, y: np.nan * x)})
    with pytest.raises(fk.FemkronValueError, match="Neumann flux on face top.*NaN"):
        bcs.boundary_load()


def test_too_few_dofs():
    one = fk.TensorSpace([fk.Space1D(fk.Mesh1D.uniform(0, 1, 1), order=1)])
    with pytest.raises(fk.FemkronValueError, match="has no free dofs"):
        fk.BoundaryConditions(one, None)
    with pytest.raises(fk.FemkronValueError, match="a periodic axis needs at least 2 dofs"):
        fk.BoundaryConditions(one, {"x": fk.Periodic()})
    assert fk.BoundaryConditions(one, {"left": fk.Neumann()}).shape == (1,)


def test_wrong_length_vectors():
    V = space(2, 1, "gll", False)
    bcs = fk.BoundaryConditions(V, {"left": fk.Neumann()})
    with pytest.raises(fk.FemkronValueError, match=r"b must have 12 entries"):
        bcs.restrict(np.ones(5))
    with pytest.raises(fk.FemkronValueError, match=r"uc must have 3 entries"):
        bcs.extend(np.ones(12))
    with pytest.raises(fk.FemkronValueError, match=r"lift must have 12 entries"):
        bcs.extend(np.ones(3), np.ones(5))

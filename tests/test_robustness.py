"""Numerics at the extremes, resource guards, convergence failures and atomic writes.

Each test measures something against an independent reference: exactly representable
solutions (a quadratic is in every space of order >= 2, so the finite element solution must
equal it to rounding), the same problem on a rescaled domain, dense eigenvalues, or the bytes a
factorisation really took.
"""

import ast
import json
import os
import pathlib

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse.linalg as spla

import femkron as fk
from femkron.cli import main
from femkron.linalg.solve import backward_error, lu_nbytes
from femkron.problems import LinearSystem


@pytest.fixture
def memory_limit():
    """Set a temporary memory limit; restores the previous setting (default: None)."""
    import femkron._limits

    previous = femkron._limits._limit
    yield fk.set_memory_limit
    femkron._limits._limit = previous


def quadratic(*xs):
    out = 1.0
    for x in xs:
        out = out * x * (1 - x)
    return out


def quadratic_source(*xs):  # -Δ of Π x(1-x) on the unit box
    out = 0.0
    for d in range(len(xs)):
        term = 2.0
        for e, x in enumerate(xs):
            if e != d:
                term = term * x * (1 - x)
        out = out + term
    return out


# ---- high orders ---------------------------------------------------------------------------
def reference_conditions(nodes, orders):
    m = fk.Mesh1D.uniform(0.0, 1.0, 1)
    cm, ck = [], []
    for p in orders:
        s = fk.Space1D(m, p, nodes)
        cm.append(np.linalg.cond(s.mass().toarray()))
        ck.append(np.linalg.cond(s.stiffness().toarray()[1:-1, 1:-1]))
    return np.array(cm), np.array(ck)


def test_gll_condition_grows_algebraically_up_to_order_24():
    orders = [2, 4, 8, 12, 16, 20, 24]
    cm, ck = reference_conditions("gll", orders)
    # measured: cond(M) 6.9 → 41.8 (about 1.7 p), cond(K interior) 1 → 751 (slope 2.7 in
    # log-log over p = 4..24): algebraic growth
    slope_m = np.polyfit(np.log(orders[1:]), np.log(cm[1:]), 1)[0]
    slope_k = np.polyfit(np.log(orders[1:]), np.log(ck[1:]), 1)[0]
    assert 0.5 < slope_m < 1.2, slope_m
    assert 1.5 < slope_k < 3.0, slope_k
    assert cm[-1] < 50 and ck[-1] < 1000
    # equispaced nodes are the contrast: exponential growth (4e10 for M at order 24)
    em, _ = reference_conditions("equispaced", [8, 16, 24])
    assert em[-1] > 1e9 and em[-1] / em[0] > 1e7


def test_order_24_matrices_and_solution_are_accurate():
    m = fk.Mesh1D.graded(0.0, 1.0, 3, ratio=2.0)
    s = fk.Space1D(m, 24)
    K, M = s.stiffness(), s.mass()
    # sums of <= 73 rounded entries: n·ε < 1e-14 relative; the derivative tables of degree 24
    # carry p²·ε (Lebesgue-type growth) more, well under 1e-11
    assert np.abs(K @ np.ones(s.ndofs)).max() < 1e-11 * abs(K).max()
    assert abs(M.sum() - 1.0) < 1e-13
    assert abs(s.x @ (M @ s.x) - 1.0 / 3.0) < 1e-13  # ∫ x² exactly
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=2, order=24)
    ex = lambda x, y: np.sin(np.pi * x) * np.sin(np.pi * y)  # noqa: E731
    # Error model: the discretisation error, (π h)^25 / 25! ~ 1e-30, is far below rounding, so
    # the error is that of a backward-stable solve: ε·κ·max|u| with κ = λmax/λmin of the
    # operator, which for K⊗M + M⊗K on a square is the spread of the 1D pencil K s = λ M s
    # (about 6e4 here: 1.4e-11 × max|u|).  A factor 4 for the solve's backward error (a few ε)
    # and the max-norm; measured: fdm 7e-13 to 2.6e-12, direct and cg 3e-14 to 2e-12.
    s = V.spaces[0]
    inner = slice(1, s.ndofs - 1)
    lam = sla.eigh(
        s.stiffness().toarray()[inner, inner], s.mass().toarray()[inner, inner], eigvals_only=True
    )
    tol = 4 * np.finfo(float).eps * (lam[-1] / lam[0]) * 1.0  # max|u| = 1
    for method in ("auto", "direct"):
        sol = fk.poisson(V, lambda x, y: 2 * np.pi**2 * ex(x, y), method=method)
        assert sol.error(ex, "max") < tol, (method, sol.error(ex, "max"), tol)


# ---- extreme meshes ------------------------------------------------------------------------
def solve_exact_quadratic(V, method):
    """Solve -Δu = f for u = Π x(1-x) through fk.solve; max error at the dofs, info."""
    system = LinearSystem(V, quadratic_source)
    x, info = fk.solve(system.A, system.b, method=method, rtol=1e-12)
    return fk.error(V, system.solution_vector(x), quadratic, "max"), info


def strong_grading(ratio):
    m = fk.Mesh1D.graded(0.0, 1.0, 60, ratio=ratio)
    assert m.h.min() < 2e-11 and m.h.max() > 0.3
    return m


@pytest.mark.parametrize("ratio", [1.5, 1 / 1.5])
@pytest.mark.parametrize("p", [1, 2, 3])
def test_grading_ratio_1_5_over_60_cells_1d(ratio, p):
    V = fk.TensorSpace([fk.Space1D(strong_grading(ratio), p)])
    # u = x(1 - x): nodally exact for p = 1, exact for p >= 2
    err, info = solve_exact_quadratic(V, "direct")
    assert err < 1e-12 and info.residual < 1e-12
    # auto: fdm where its backward error stays below 1e-8 (measured errors up to 9e-11)
    err, info = solve_exact_quadratic(V, "auto")
    assert err < 1e-9
    # auto solves a 1D problem by a banded LU (no dense eigenproblem); fast diagonalization
    # asked for keeps its backward error below 1e-8 or refuses
    assert info.method == "direct"
    try:
        err, info = solve_exact_quadratic(V, "fdm")
    except fk.StructureError as exc:
        assert exc.reason == "lost-accuracy"
    else:
        assert err < 1e-9


@pytest.mark.parametrize("ratio", [1.5, 1 / 1.5])
def test_grading_ratio_1_5_over_60_cells_2d_auto_stays_exact(ratio):
    m = strong_grading(ratio)
    V = fk.TensorSpace([fk.Space1D(m, 2), fk.Space1D(fk.Mesh1D.uniform(0, 1, 4), 2)])
    err, info = solve_exact_quadratic(V, "auto")
    assert err < 1e-12
    # fast diagonalization cannot keep its accuracy here (measured backward error 0.3-1):
    # auto noticed and switched; asked for explicitly it refuses instead of answering wrongly
    assert info.method != "fdm" and "lost accuracy" in info.note
    with pytest.raises(fk.FemkronValueError, match="fdm.*lost accuracy"):
        solve_exact_quadratic(V, "fdm")
    system = LinearSystem(V, quadratic_source)
    _, info = fk.solve(system.A, system.b, method="fdm", raise_on_failure=False)
    assert not info.converged
    # the problem-level solver notices the loss too and hands over to another method (a field,
    # not a message): the answer is exact to rounding (the quadratic is in the space)
    sol = fk.poisson(V, quadratic_source)
    assert sol.info.method != "fdm" and sol.info.fallback == "lost-accuracy", sol.info
    assert sol.error(quadratic, "max") < 1e-10


@pytest.mark.parametrize("method", ["auto", "direct", "amg", "cg"])
def test_cells_1e_8_long(method):
    nodes = np.concatenate([np.linspace(0.0, 1e-7, 11), np.linspace(0.1, 1.0, 10)])
    m = fk.Mesh1D(nodes)
    assert abs(m.h.min() - 1e-8) < 1e-15
    V = fk.TensorSpace([fk.Space1D(m, 2), fk.Space1D(fk.Mesh1D.uniform(0, 1, 3), 2)])
    err, _ = solve_exact_quadratic(V, method)
    assert err < 1e-10


def test_cells_below_float_resolution_are_refused():
    with pytest.raises(fk.FemkronValueError, match="floating-point resolution"):
        fk.Mesh1D([1.0, 1.0 + 1e-15, 2.0])
    with pytest.raises(fk.FemkronValueError, match="ratio"):
        fk.Mesh1D.graded(0.0, 1.0, 100, ratio=2.0)


@pytest.mark.parametrize("L", [1e-6, 1e6])
def test_scaled_domains_give_scale_consistent_answers(L):
    ex = lambda s: lambda x, y: np.sin(np.pi * x / s) * np.sin(np.pi * y / s)  # noqa: E731
    ref_V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=6, order=3)
    V = fk.TensorSpace.box([(0, L), (0, L)], cells=6, order=3)
    f = lambda s: lambda x, y: 2 * np.pi**2 / s**2 * ex(s)(x, y)  # noqa: E731
    ref, sol = fk.poisson(ref_V, f(1.0)), fk.poisson(V, f(L))
    # rounding only: each solve is off by c·ε·κ·max|u| with κ the spread λmax/λmin of the 1D
    # pencil (scale-free, about 580 here), c = 4 as in the order-24 test; eigenvalues by
    # c·ε·λmax relative to λ (Weyl), c = 10
    s = ref_V.spaces[0]
    inner = slice(1, s.ndofs - 1)
    lam = sla.eigh(
        s.stiffness().toarray()[inner, inner], s.mass().toarray()[inner, inner], eigvals_only=True
    )
    spread = lam[-1] / lam[0]
    # the same dof values (u has the same range), errors scale with the area
    assert np.abs(sol.values - ref.values).max() < 2 * 4 * np.finfo(float).eps * spread
    assert abs(sol.error(ex(L), "L2") / L - ref.error(ex(1.0), "L2")) < 1e-12
    w_ref, _ = fk.eigen(ref_V, k=3)
    w, _ = fk.eigen(V, k=3)
    np.testing.assert_allclose(w * L**2, w_ref, rtol=2 * 10 * np.finfo(float).eps * spread)
    assert abs(float(fk.mass(V).tocsr().sum()) / L**2 - 1.0) < 1e-13
    # Neumann data scale as 1/L: the compatibility check is scale-free
    bc = {"left": fk.Neumann(1.0 / L), "right": fk.Neumann(1.0 / L)}
    with pytest.raises(fk.FemkronValueError, match="incompatible"):
        fk.poisson(V, 0.0, bc={**bc, "bottom": fk.Neumann(), "top": fk.Neumann()})


# ---- nearly singular problems --------------------------------------------------------------
def test_helmholtz_at_a_resonance_is_detected():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=2)
    w, _ = fk.eigen(V, k=1)
    with pytest.raises(fk.FemkronValueError, match="resonance"):
        fk.helmholtz(V, 1.0, wavenumber=float(np.sqrt(w[0])))
    # next to (not at) the resonance the answer is valid and large
    sol = fk.helmholtz(V, 1.0, wavenumber=float(np.sqrt(w[0] * (1 - 1e-6))))
    assert sol.info.residual < 1e-6 and np.abs(sol.values).max() > 1e3


def test_helmholtz_resonance_with_general_coefficient_is_detected():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=6, order=2)
    kappa = lambda x, y: 1 + x * y  # noqa: E731  (not separable: direct solver)
    bcs = fk.BoundaryConditions(V)
    K = bcs.constrain(fk.stiffness(V, kappa)).toarray()
    M = bcs.constrain(fk.mass(V)).toarray()
    lam = sla.eigh(K, M, eigvals_only=True)[0]
    A = bcs.constrain(fk.stiffness(V, kappa) - lam * fk.mass(V))
    with pytest.raises(fk.FemkronValueError, match="numerically singular"):
        fk.solve(A, np.ones(A.shape[0]), method="direct")
    k = float(np.sqrt(lam))
    with pytest.raises(fk.FemkronValueError, match="numerically singular"):
        fk.helmholtz(V, 1.0, wavenumber=k, kappa=kappa, method="direct")
    with pytest.raises(fk.FemkronError):  # iterative paths: a clear error, not an answer
        fk.helmholtz(V, 1.0, wavenumber=k, kappa=kappa)


def test_robin_coefficient_that_nearly_cancels_is_detected():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=2)
    bc = {"left": fk.Robin(1e-14, 0.0), "right": fk.Neumann(), "bottom": fk.Neumann()}
    bc["top"] = fk.Neumann()
    with pytest.raises(fk.FemkronValueError, match="Robin"):
        fk.poisson(V, 1.0, bc=bc)
    bc["left"] = fk.Robin(1e-3, 0.0)  # small but clear of rounding: solvable
    sol = fk.poisson(V, 1.0, bc=bc)
    # a backward-stable solve leaves a relative residual c·ε·κ; κ = λmax/λmin of K u = λ M u
    # (λmin ≈ α = 1e-3, spread ~ 8e6), c = 4 (measured c <= 0.6)
    bcs = fk.BoundaryConditions(V, bc)
    K = bcs.constrain(fk.stiffness(V) + bcs.robin_operator()).toarray()
    lam = sla.eigh(K, bcs.constrain(fk.mass(V)).toarray(), eigvals_only=True)
    assert sol.info.residual < 4 * np.finfo(float).eps * lam[-1] / lam[0]


def test_direct_solve_of_a_singular_matrix_is_refused():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=2)
    with pytest.raises(fk.FemkronValueError, match="singular"):
        fk.solve(fk.stiffness(V), np.ones(V.ndofs), method="direct")


# ---- float32 -------------------------------------------------------------------------------
def test_float32_input_works_in_double_precision():
    nodes = np.linspace(0, 1, 9, dtype=np.float32)
    m = fk.Mesh1D(nodes)
    assert m.nodes.dtype == np.float64
    V32 = fk.TensorSpace([fk.Space1D(m, 2)] * 2)
    V64 = fk.TensorSpace([fk.Space1D(fk.Mesh1D(nodes.astype(np.float64)), 2)] * 2)
    f32 = lambda x, y: (1.0 + x * y).astype(np.float32)  # noqa: E731
    f64 = lambda x, y: (1.0 + x * y).astype(np.float32).astype(np.float64)  # noqa: E731
    u32, u64 = fk.poisson(V32, f32).values, fk.poisson(V64, f64).values
    assert u32.dtype == np.float64
    assert np.abs(u32 - u64).max() < 1e-15
    A = fk.BoundaryConditions(V64).constrain(fk.stiffness(V64))
    b = np.ones(A.shape[0], dtype=np.float32)
    x, _ = fk.solve(A, b)
    assert x.dtype == np.float64 and np.abs(A @ x - 1).max() < 1e-10
    op = fk.KronOperator.kron(np.eye(3, dtype=np.float32), np.ones((2, 2), dtype=np.float16))
    assert (op @ np.ones(6, dtype=np.float32)).dtype == np.float64


# ---- resource guards -----------------------------------------------------------------------
def constrained(V):
    return fk.BoundaryConditions(V).constrain(fk.stiffness(V))


# (id, setup, guarded call, memory limit in bytes, words of the alternative in the message)
# V has 6561 dofs: vectors take 52 KB, the 1D eigenvectors 150 KB, the CSR about 1.3 MB,
# a sparse LU an estimated 10 MB.
GUARDED = [
    ("tocsr", fk.stiffness, lambda A: A.tocsr(), 500_000, "matrix-free"),
    ("toarray", fk.stiffness, lambda A: A.toarray(), 10**8, ".tocsr()"),
    ("direct", constrained, lambda A: fk.solve(A, np.ones(A.shape[0]), "direct"), 3e6, "amg"),
    ("amg", constrained, lambda A: fk.solve(A, np.ones(A.shape[0]), "amg"), 3e6, "fdm"),
    ("fdm", constrained, lambda A: fk.solve(A, np.ones(A.shape[0]), "fdm"), 100_000, "amg"),
    ("load", lambda V: V, lambda V: fk.load_vector(V, 1.0), 100_000, "fewer cells"),
    ("interpolate", lambda V: V, lambda V: V.interpolate(1.0), 100_000, "fewer cells"),
    ("eigen", lambda V: V, lambda V: fk.eigen(V, k=40), 300_000, "fewer cells"),
    ("heat", lambda V: V, lambda V: fk.heat(V, 0.0, 0.1, 0.01, snapshots=11), 3e5, "fewer"),
    (
        "sampling",
        lambda V: V,
        lambda V: fk.separable_expansion(V, lambda x, y: 1 + x * y),
        100_000,
        "separable",
    ),
    ("mesh", lambda V: V, lambda V: fk.Mesh1D.uniform(0, 1, 10**6), 100_000, "fewer cells"),
]


@pytest.mark.parametrize(
    ("setup", "call", "limit", "alternative"),
    [g[1:] for g in GUARDED],
    ids=[g[0] for g in GUARDED],
)
def test_materialisations_are_refused_above_the_limit(
    setup, call, limit, alternative, memory_limit
):
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=40, order=2)  # 6561 dofs
    obj = setup(V)
    memory_limit(limit)
    with pytest.raises(fk.ResourceError) as info:
        call(obj)
    message = str(info.value)
    assert "memory limit" in message and alternative in message, message
    assert info.value.nbytes > info.value.limit == int(limit)


def test_memory_limit_from_environment(monkeypatch, memory_limit):
    memory_limit(None)
    monkeypatch.setenv("FEMKRON_MEMORY_LIMIT", "1000")
    assert fk.memory_limit() == 1000
    with pytest.raises(fk.ResourceError):
        fk.KronOperator.kron(np.eye(20), np.eye(20)).toarray()
    monkeypatch.setenv("FEMKRON_MEMORY_LIMIT", "lots")
    with pytest.raises(fk.FemkronValueError, match="FEMKRON_MEMORY_LIMIT"):
        fk.memory_limit()


@pytest.mark.parametrize(("dim", "cells", "p"), [(2, 48, 1), (2, 12, 4), (3, 10, 1), (3, 4, 3)])
def test_lu_estimate_bounds_the_real_factorisation(dim, cells, p):
    V = fk.TensorSpace.box([(0, 1)] * dim, cells=cells, order=p)
    A = fk.BoundaryConditions(V).constrain(fk.stiffness(V))
    lu = spla.splu(A.tocsr().tocsc(), permc_spec="MMD_AT_PLUS_A")
    real = 12 * (lu.L.nnz + lu.U.nnz)
    estimate = lu_nbytes(A)
    assert real <= estimate <= 25 * real, (real, estimate)


# ---- solvers that cannot converge ----------------------------------------------------------
def test_convergence_error_carries_iterations_and_history():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=2)
    A = fk.BoundaryConditions(V).constrain(fk.stiffness(V))
    b = np.ones(A.shape[0])
    with pytest.raises(fk.ConvergenceError) as info:
        fk.solve(A, b, method="cg", maxiter=3)
    err = info.value
    assert err.iterations == 3 and len(err.residuals) == 4
    assert err.residuals[-1] > 1e-10 and "maxiter" in str(err)
    x, sinfo = fk.solve(A, b, method="cg", maxiter=3, raise_on_failure=False)
    assert not sinfo.converged and sinfo.residuals == err.residuals
    assert np.isclose(np.linalg.norm(b - A @ x) / np.linalg.norm(b), sinfo.residuals[-1])


def test_cg_breakdown_on_an_indefinite_operator():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=2)
    bcs = fk.BoundaryConditions(V)
    A = bcs.constrain(fk.stiffness(V) - 200.0 * fk.mass(V))  # k² = 200 > λ1 ≈ 19.7
    b = np.ones(A.shape[0])
    with pytest.raises(fk.ConvergenceError, match="positive definite") as info:
        fk.solve(A, b, method="cg")
    assert info.value.iterations >= 1 and info.value.residuals
    x, sinfo = fk.solve(A, b, method="cg", raise_on_failure=False)
    assert not sinfo.converged and np.all(np.isfinite(x))


def test_backward_error_is_rounding_for_stable_solves():
    V = fk.TensorSpace.box([(0, 1), (0, 1), (0, 1)], cells=4, order=2)
    A = fk.BoundaryConditions(V).constrain(fk.stiffness(V))
    b = np.random.default_rng(1).standard_normal(A.shape[0])
    for method in ("fdm", "direct"):
        x, _ = fk.solve(A, b, method=method)
        assert backward_error(A, x, b) < 1e-13
    assert backward_error(A, np.zeros_like(b), b) == 1.0


# ---- nothing half-written ------------------------------------------------------------------
def failing_writer(real):
    """Wrap a writer so that it writes part of its file, then fails."""

    def write(path, *args, **kwargs):
        with open(path, "w") as fh:
            fh.write("partial")
        raise OSError("disk full (simulated)")

    return write


def assert_untouched(folder, target, before):
    assert sorted(os.listdir(folder)) == sorted(before), os.listdir(folder)  # no temporaries
    if target.exists():
        assert target.read_text() == "old contents"


@pytest.mark.parametrize("existing", [False, True])
def test_failed_mesh_write_leaves_nothing(tmp_path, monkeypatch, existing):
    target = tmp_path / "mesh.toml"
    if existing:
        target.write_text("old contents")
    before = os.listdir(tmp_path)
    import femkron.io.meshfile as io

    def broken_text(*args, **kwargs):
        return "[[axis]]\nkind = " + "x" * 10 + object()  # TypeError mid-way

    monkeypatch.setattr(io, "mesh_text", broken_text)
    with pytest.raises(TypeError):
        fk.save_mesh(fk.TensorMesh([fk.Mesh1D.uniform(0, 1, 2)]), target)
    assert_untouched(tmp_path, target, before)


@pytest.mark.parametrize("existing", [False, True])
def test_failed_vtk_write_leaves_nothing(tmp_path, monkeypatch, existing):
    meshio = pytest.importorskip("meshio")
    target = tmp_path / "u.vtu"
    if existing:
        target.write_text("old contents")
    before = os.listdir(tmp_path)
    monkeypatch.setattr(meshio, "write", failing_writer(meshio.write))
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=2, order=1)
    with pytest.raises(OSError, match="simulated"):
        fk.write_vtk(target, V, {"u": np.zeros(V.ndofs)})
    assert_untouched(tmp_path, target, before)


@pytest.mark.parametrize("existing", [False, True])
def test_failed_cli_outputs_leave_nothing(tmp_path, monkeypatch, capsys, existing):
    from matplotlib.figure import Figure

    png, js = tmp_path / "u.png", tmp_path / "r.json"
    if existing:
        png.write_text("old contents")
        js.write_text("old contents")
    before = os.listdir(tmp_path)
    monkeypatch.setattr(Figure, "savefig", lambda self, path, **kw: failing_writer(None)(path))
    argv = ["solve", "--dim", "1", "--cells", "4", "--plot", str(png), "--json", str(js)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "simulated" in err[0]
    assert_untouched(tmp_path, png, before)
    assert_untouched(tmp_path, js, before)


def test_successful_write_replaces_and_keeps_permissions(tmp_path):
    target = tmp_path / "r.json"
    target.write_text("old contents")
    os.chmod(target, 0o640)
    assert main(["solve", "--dim", "1", "--cells", "4", "--json", str(target)]) == 0
    assert json.loads(target.read_text())
    assert os.stat(target).st_mode & 0o777 == 0o640
    assert sorted(os.listdir(tmp_path)) == ["r.json"]


def test_every_file_write_goes_through_atomic_path():
    """Scan the package: each open(..., 'w'), savefig and meshio.write writes to a name bound
    by ``with atomic_path(...) as name``."""
    root = pathlib.Path(fk.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):  # every subpackage, not only the top level
        tree = ast.parse(path.read_text())
        atomic_names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.With):
                for item in node.items:
                    call = item.context_expr
                    if (
                        isinstance(call, ast.Call)
                        and getattr(call.func, "id", getattr(call.func, "attr", ""))
                        == "atomic_path"
                        and isinstance(item.optional_vars, ast.Name)
                    ):
                        atomic_names.add(item.optional_vars.id)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            writes = name in ("savefig", "write_text", "write_bytes") or (
                name == "write" and getattr(node.func.value, "id", "") == "meshio"
            )
            if name == "open":
                modes = [a.value for a in node.args[1:2] if isinstance(a, ast.Constant)]
                modes += [k.value.value for k in node.keywords if k.arg == "mode"]
                writes = any(isinstance(m, str) and set(m) & set("wax") for m in modes)
            if writes:
                target = node.args[0]
                if not (isinstance(target, ast.Name) and target.id in atomic_names):
                    offenders.append(f"{path.name}:{node.lineno}")
    assert not offenders, offenders


def test_heat_on_a_strongly_graded_mesh_matches_direct():
    V = fk.TensorSpace(
        [fk.Space1D(strong_grading(1 / 1.5), 2), fk.Space1D(fk.Mesh1D.uniform(0, 1, 4), 2)]
    )
    auto = fk.heat(V, quadratic, t_end=0.01, dt=0.001, snapshots=2)
    direct = fk.heat(V, quadratic, t_end=0.01, dt=0.001, snapshots=2, method="direct")
    assert auto.info.method != "fdm"  # fdm lost accuracy here, auto noticed
    assert np.abs(auto.values - direct.values).max() < 1e-12


def test_set_memory_limit_restores_the_previous_setting(monkeypatch, memory_limit):
    memory_limit(None)
    monkeypatch.setenv("FEMKRON_MEMORY_LIMIT", "5000")
    old = fk.set_memory_limit(123)
    assert old is None and fk.memory_limit() == 123
    assert fk.set_memory_limit(old) == 123
    assert fk.memory_limit() == 5000  # the environment applies again

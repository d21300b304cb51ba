"""Bad input through the public API and the CLI: a clear femkron error naming the argument.

Every case below is one distinct wrong argument (type, shape, range, finiteness, consistency
between arguments, or a user callable that misbehaves).  Each test asserts the exception
class (also a ``ValueError``/``TypeError`` where Python users expect one) and that the message
names the argument (and, where it helps, the bad value or what is accepted).
"""

import numpy as np
import pytest
import scipy.sparse as sp

import femkron as fk
from femkron.cli import main

# small objects shared by the cases (cheap to build)
M4 = fk.Mesh1D.uniform(0.0, 1.0, cells=4)
S4 = fk.Space1D(M4, order=2)
V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=2)
A_FREE = fk.BoundaryConditions(V).constrain(fk.stiffness(V))
TE = fk.FemkronTypeError
VE = fk.FemkronValueError
RE = fk.ResourceError


def bad_shape(x, y):
    return np.ones(7)


def returns_nan(x, y):
    return np.where(x > 0.5, np.nan, 1.0)


def returns_complex(x, y):
    return x + 1j * y


def returns_text(x, y):
    return "one"


def returns_none(x, y):
    return None


def divides_by_zero(x, y):
    return 1 / 0


def wrong_arity(x):
    return x


def one_d_nan(x):
    return np.where(x < 0.5, 1.0, np.nan)


# (id, call, exception class, substrings every message must contain)
API_CASES = [
    # ---- quadrature and elements
    ("gauss_legendre-zero", lambda: fk.gauss_legendre(0), VE, ["n", "0"]),
    ("gauss_legendre-text", lambda: fk.gauss_legendre("3"), TE, ["n", "'3'"]),
    ("gauss_lobatto-one", lambda: fk.gauss_lobatto(1), VE, ["n", ">= 2"]),
    ("lagrange-order-zero", lambda: fk.Lagrange(0), VE, ["order", ">= 1"]),
    ("lagrange-order-25", lambda: fk.Lagrange(25), VE, ["order", "<= 24"]),
    ("lagrange-order-float", lambda: fk.Lagrange(2.5), TE, ["order", "2.5"]),
    ("lagrange-nodes", lambda: fk.Lagrange(2, nodes="chebyshev"), VE, ["nodes", "'gll'"]),
    ("lagrange-points-2d", lambda: fk.Lagrange(2).values(np.ones((2, 2))), VE, ["x", "1D"]),
    # ---- meshes
    ("mesh-nodes-text", lambda: fk.Mesh1D("abc"), TE, ["nodes"]),
    ("mesh-nodes-2d", lambda: fk.Mesh1D([[0, 1], [2, 3]]), VE, ["nodes", "(2, 2)"]),
    ("mesh-nodes-one", lambda: fk.Mesh1D([0.0]), VE, ["nodes", "at least 2"]),
    ("mesh-nodes-unsorted", lambda: fk.Mesh1D([0.0, 1.0, 0.5]), VE, ["nodes", "increasing"]),
    ("mesh-nodes-nan", lambda: fk.Mesh1D([0.0, np.nan, 1.0]), VE, ["nodes", "finite"]),
    ("mesh-cells-zero", lambda: fk.Mesh1D.uniform(0, 1, 0), VE, ["cells", "0"]),
    ("mesh-cells-float", lambda: fk.Mesh1D.uniform(0, 1, 2.5), TE, ["cells", "2.5"]),
    ("mesh-cells-bool", lambda: fk.Mesh1D.uniform(0, 1, True), TE, ["cells"]),
    ("mesh-cells-huge", lambda: fk.Mesh1D.uniform(0, 1, 10**12), RE, ["cells", "memory limit"]),
    ("mesh-a-nan", lambda: fk.Mesh1D.uniform(np.nan, 1, 2), VE, ["a", "finite"]),
    ("mesh-b-text", lambda: fk.Mesh1D.chebyshev(0, "1", 2), TE, ["b", "'1'"]),
    ("mesh-reversed", lambda: fk.Mesh1D.uniform(1, 0, 2), VE, ["b > a", "a=1.0"]),
    ("mesh-ratio-zero", lambda: fk.Mesh1D.graded(0, 1, 3, ratio=0), VE, ["ratio", "> 0"]),
    ("mesh-ratio-huge", lambda: fk.Mesh1D.graded(0, 1, 60, ratio=1e10), VE, ["ratio", "cells"]),
    ("mesh-refine-zero", lambda: M4.refine(0), VE, ["factor", "0"]),
    ("mesh-locate-outside", lambda: M4.locate([2.0]), VE, ["points", "[0.0, 1.0]"]),
    ("tensormesh-empty", lambda: fk.TensorMesh([]), VE, ["meshes"]),
    ("tensormesh-item", lambda: fk.TensorMesh([M4, 3]), TE, ["meshes[1]", "int"]),
    # ---- 1D spaces
    ("space-mesh-type", lambda: fk.Space1D("mesh"), TE, ["mesh", "str"]),
    ("space-nodes-none", lambda: fk.Space1D(M4, nodes=None), VE, ["nodes", "None"]),
    ("space-coef-text", lambda: S4.stiffness("kappa"), TE, ["coef", "str"]),
    ("space-coef-array-shape", lambda: S4.mass(np.ones((3, 2))), VE, ["coef", "(3, 2)"]),
    ("space-quad-zero", lambda: S4.stiffness(quad=0), VE, ["quad", "0"]),
    ("space-coef-nan", lambda: S4.mass(one_d_nan), VE, ["coef", "one_d_nan", "NaN"]),
    ("space-boundary-side", lambda: S4.boundary("top"), VE, ["side", "'top'"]),
    ("space-load-text", lambda: S4.load("x"), TE, ["f", "'x'"]),
    ("space-eval-text", lambda: S4.eval_matrix(["a"]), TE, ["points"]),
    ("space-eval-derivative", lambda: S4.eval_matrix([0.5], derivative=2), VE, ["derivative"]),
    ("space-quadrature-derivative", lambda: S4.basis_at_quadrature(2, 3), VE, ["derivative"]),
    (
        "space-lumped-equispaced",
        lambda: fk.Space1D(M4, 2, "equispaced").mass(lumped=True),
        VE,
        ["lumped", "gll"],
    ),
    # ---- tensor spaces
    ("tensorspace-empty", lambda: fk.TensorSpace([]), VE, ["spaces"]),
    ("tensorspace-item", lambda: fk.TensorSpace([S4, M4]), TE, ["spaces[1]", "Mesh1D"]),
    ("box-bounds-pairs", lambda: fk.TensorSpace.box([(0, 1, 2)], 2), VE, ["bounds", "(a, b)"]),
    ("box-bounds-type", lambda: fk.TensorSpace.box(5, 2), TE, ["bounds"]),
    ("box-cells-count", lambda: fk.TensorSpace.box([(0, 1)] * 2, (2, 2, 2)), VE, ["cells", "2"]),
    ("box-cells-negative", lambda: fk.TensorSpace.box([(0, 1)] * 2, (2, -1)), VE, ["cells[1]"]),
    ("box-order-float", lambda: fk.TensorSpace.box([(0, 1)], 2, order=1.5), TE, ["order"]),
    ("box-nodes-int", lambda: fk.TensorSpace.box([(0, 1)], 2, nodes=3), VE, ["nodes", "3"]),
    (
        "box-nodes-count",
        lambda: fk.TensorSpace.box([(0, 1)], 2, nodes=["gll", "gll"]),
        VE,
        ["nodes", "1"],
    ),
    (
        "from-mesh-nodes-count",
        lambda: fk.TensorSpace.from_mesh(fk.TensorMesh([M4, M4]), nodes=["gll"]),
        VE,
        ["nodes", "2"],
    ),
    ("from-mesh-type", lambda: fk.TensorSpace.from_mesh("mesh"), TE, ["mesh", "str"]),
    ("space-interpolate-shape", lambda: V.interpolate(bad_shape), VE, ["f", "bad_shape", "(7,)"]),
    ("space-evaluate-u", lambda: V.evaluate(np.ones(3), [[0.5], [0.5]]), VE, ["u", "81"]),
    ("space-evaluate-points", lambda: V.evaluate(np.ones(V.ndofs), [[0.5]]), VE, ["points"]),
    # ---- operators and coefficients
    ("stiffness-space", lambda: fk.stiffness("V"), TE, ["V", "str"]),
    ("stiffness-kappa-negative", lambda: fk.stiffness(V, kappa=-1.0), VE, ["kappa", "> 0"]),
    ("stiffness-kappa-nan", lambda: fk.stiffness(V, kappa=np.nan), VE, ["kappa", "finite"]),
    ("stiffness-kappa-text", lambda: fk.stiffness(V, kappa="one"), TE, ["kappa", "str"]),
    ("stiffness-kappa-tuple", lambda: fk.stiffness(V, kappa=(1.0,)), VE, ["kappa", "2 entries"]),
    (
        "stiffness-kappa-sign",
        lambda: fk.stiffness(V, kappa=lambda x, y: x - 0.5),
        VE,
        ["kappa", "> 0"],
    ),
    ("kappa-arity", lambda: fk.stiffness(V, kappa=wrong_arity), VE, ["kappa", "wrong_arity"]),
    ("kappa-raises", lambda: fk.stiffness(V, kappa=divides_by_zero), VE, ["divides_by_zero"]),
    ("kappa-complex", lambda: fk.stiffness(V, kappa=returns_complex), VE, ["returns_complex"]),
    ("kappa-text", lambda: fk.stiffness(V, kappa=returns_text), VE, ["kappa", "returns_text"]),
    ("kappa-none", lambda: fk.stiffness(V, kappa=returns_none), VE, ["kappa", "returns_none"]),
    ("mass-coef-text", lambda: fk.mass(V, coef="x"), TE, ["coef", "str"]),
    ("advection-count", lambda: fk.advection(V, (1.0,)), VE, ["velocity", "2"]),
    ("advection-nan", lambda: fk.advection(V, (np.nan, 1.0)), VE, ["velocity", "finite"]),
    ("load-shape", lambda: fk.load_vector(V, bad_shape), VE, ["f", "bad_shape", "(7,)"]),
    ("load-nan", lambda: fk.load_vector(V, returns_nan), VE, ["f", "returns_nan", "NaN"]),
    ("load-type", lambda: fk.load_vector(V, "x"), TE, ["f", "str"]),
    ("load-tuple", lambda: fk.load_vector(V, (1.0,)), VE, ["f", "2 entries"]),
    ("load-quad", lambda: fk.load_vector(V, 1.0, quad=0), VE, ["quad", "0"]),
    ("expansion-quad", lambda: fk.separable_expansion(V, 1.0, quad=-1), VE, ["quad"]),
    # ---- Kronecker operators
    ("kron-empty", lambda: fk.KronOperator([]), VE, ["terms"]),
    ("kron-coef", lambda: fk.KronOperator([("a", (np.eye(2),))]), TE, ["coef", "'a'"]),
    ("kron-factor-type", lambda: fk.KronOperator([(1.0, ("x",))]), TE, ["factor 0", "str"]),
    ("kron-factor-1d", lambda: fk.KronOperator([(1.0, (np.ones(3),))]), VE, ["factor 0", "2D"]),
    (
        "kron-factor-nan",
        lambda: fk.KronOperator([(1.0, ([[1.0, np.nan], [0.0, 1.0]],))]),
        VE,
        ["factor 0", "NaN"],
    ),
    (
        "kron-diagonal-rectangular",
        lambda: fk.KronOperator.kron(np.ones((2, 3))).diagonal(),
        VE,
        ["diagonal", "square"],
    ),
    (
        "kron-shapes",
        lambda: fk.KronOperator([(1.0, (np.eye(2),)), (1.0, (np.eye(3),))]),
        VE,
        ["terms[1]", "shapes"],
    ),
    ("kron-apply", lambda: fk.KronOperator.kron(np.eye(2)) @ np.ones(3), VE, ["shape", "(3,)"]),
    (
        "kron-apply-complex",
        lambda: fk.KronOperator.kron(np.eye(2)) @ np.ones(2, complex),
        TE,
        ["dtype", "complex"],
    ),
    ("kron-scale-nan", lambda: fk.KronOperator.kron(np.eye(2)) * np.nan, VE, ["scalar", "finite"]),
    ("kron-restrict", lambda: fk.KronOperator.kron(np.eye(2)).restrict([[5]]), VE, ["rows[0]"]),
    (
        "kron-toarray-huge",
        lambda: fk.KronOperator.kron(*[sp.identity(2000, format="csr")] * 3).toarray(),
        RE,
        ["dense", "memory limit", ".tocsr()"],
    ),
    (
        "kron-tocsr-huge",
        lambda: fk.KronOperator.kron(
            *[fk.Space1D(fk.Mesh1D.uniform(0, 1, 900), 3).mass()] * 3
        ).tocsr(),
        RE,
        ["CSR", "memory limit", "matrix-free"],
    ),
    # ---- boundary conditions
    ("dirichlet-text", lambda: fk.Dirichlet("a"), TE, ["value", "'a'"]),
    ("dirichlet-nan", lambda: fk.Dirichlet(np.nan), VE, ["value", "finite"]),
    ("neumann-list", lambda: fk.Neumann([1, 2]), TE, ["flux", "[1, 2]"]),
    ("robin-callable", lambda: fk.Robin(lambda x: x, 1.0), TE, ["alpha", "callable"]),
    ("robin-inf", lambda: fk.Robin(np.inf), VE, ["alpha", "finite"]),
    ("bc-space", lambda: fk.BoundaryConditions("V"), TE, ["V", "str"]),
    ("bc-face-3d", lambda: fk.poisson(V, 1.0, bc={"front": fk.Neumann()}), VE, ["'front'", "left"]),
    ("bc-face-typo", lambda: fk.poisson(V, 1.0, bc={"lef": fk.Dirichlet()}), VE, ["'lef'"]),
    ("bc-condition", lambda: fk.poisson(V, 1.0, bc={"left": 0.0}), TE, ["bc['left']", "float"]),
    ("bc-type", lambda: fk.poisson(V, 1.0, bc=[1]), TE, ["bc", "list"]),
    ("bc-periodic-face", lambda: fk.poisson(V, 1.0, bc={"left": fk.Periodic()}), VE, ["'left'"]),
    ("bc-axis-condition", lambda: fk.poisson(V, 1.0, bc={"x": fk.Neumann()}), VE, ["'x'"]),
    (
        "bc-periodic-and-face",
        lambda: fk.poisson(V, 1.0, bc={"x": fk.Periodic(), "left": fk.Neumann()}),
        VE,
        ["'x'", "periodic"],
    ),
    (
        "bc-dirichlet-data",
        lambda: fk.poisson(V, 1.0, bc={"left": fk.Dirichlet(bad_shape)}),
        VE,
        ["Dirichlet", "left", "bad_shape"],
    ),
    (
        "bc-neumann-data",
        lambda: fk.poisson(V, 0.0, bc={"top": fk.Neumann(returns_nan)}),
        VE,
        ["Neumann", "top", "returns_nan"],
    ),
    (
        "bc-no-free-dofs",
        lambda: fk.poisson(fk.TensorSpace.box([(0, 1)], 1, 1), 1.0),
        VE,
        ["'x'", "free dofs"],
    ),
    # ---- problems
    ("poisson-space", lambda: fk.poisson(None, 1.0), TE, ["V", "NoneType"]),
    ("poisson-method", lambda: fk.poisson(V, 1.0, method="lu"), VE, ["method", "'lu'", "'fdm'"]),
    ("poisson-rtol", lambda: fk.poisson(V, 1.0, method="cg", rtol=-1), VE, ["rtol", "-1"]),
    ("poisson-maxiter", lambda: fk.poisson(V, 1.0, method="cg", maxiter=0), VE, ["maxiter"]),
    ("poisson-sigma", lambda: fk.poisson(V, 1.0, sigma="a"), TE, ["sigma", "'a'"]),
    ("poisson-f-arity", lambda: fk.poisson(V, wrong_arity), VE, ["f", "wrong_arity"]),
    (
        "poisson-neumann-incompatible",
        lambda: fk.poisson(V, 1.0, bc=fk.Neumann()),
        VE,
        ["incompatible", "∫f"],
    ),
    ("helmholtz-k", lambda: fk.helmholtz(V, 1.0, wavenumber="a"), TE, ["wavenumber", "'a'"]),
    ("helmholtz-k-inf", lambda: fk.helmholtz(V, 1.0, wavenumber=np.inf), VE, ["wavenumber"]),
    ("eigen-k-zero", lambda: fk.eigen(V, k=0), VE, ["k", ">= 1"]),
    ("eigen-k-large", lambda: fk.eigen(V, k=50), VE, ["k", "<= 49"]),
    ("eigen-k-float", lambda: fk.eigen(V, k=2.0), TE, ["k", "2.0"]),
    ("heat-dt", lambda: fk.heat(V, 0.0, t_end=1, dt=0), VE, ["dt", "> 0"]),
    ("heat-theta", lambda: fk.heat(V, 0.0, t_end=1, dt=0.1, theta=2), VE, ["theta", "[0, 1]"]),
    ("heat-u0-length", lambda: fk.heat(V, np.ones(3), t_end=1, dt=0.1), VE, ["u0", "81"]),
    ("heat-u0-text", lambda: fk.heat(V, "a", t_end=1, dt=0.1), TE, ["u0"]),
    ("heat-u0-nan", lambda: fk.heat(V, np.full(81, np.nan), t_end=1, dt=0.1), VE, ["u0"]),
    ("heat-steps", lambda: fk.heat(V, 0.0, t_end=1, dt=1e-300), VE, ["dt", "steps"]),
    ("heat-snapshots", lambda: fk.heat(V, 0.0, t_end=1, dt=0.1, snapshots=1), VE, ["snapshots"]),
    ("heat-t-end", lambda: fk.heat(V, 0.0, t_end=-1, dt=0.1), VE, ["t_end", ">= 0"]),
    # ---- solvers
    ("solve-operator", lambda: fk.solve(np.eye(3), np.ones(3)), TE, ["A", "ndarray"]),
    ("solve-b-length", lambda: fk.solve(A_FREE, np.ones(3)), VE, ["b", "(49,)"]),
    ("solve-b-nan", lambda: fk.solve(A_FREE, np.full(49, np.nan)), VE, ["b", "NaN"]),
    ("solve-b-text", lambda: fk.solve(A_FREE, "abc"), TE, ["b"]),
    ("solve-b-complex", lambda: fk.solve(A_FREE, np.full(49, 1j)), TE, ["b", "complex"]),
    ("solve-method", lambda: fk.solve(A_FREE, np.ones(49), method="x"), VE, ["method", "'x'"]),
    (
        "solve-singular-fdm",
        lambda: fk.solve(fk.stiffness(V), np.ones(V.ndofs), method="fdm"),
        VE,
        ["singular"],
    ),
    (
        "solve-singular-direct",
        lambda: fk.solve(fk.stiffness(V), np.ones(V.ndofs), method="direct"),
        VE,
        ["singular"],
    ),
    ("fdm-operator", lambda: fk.FastDiagonalization("x"), TE, ["operator", "str"]),
    ("fdm-solve-b", lambda: fk.FastDiagonalization(A_FREE).solve(np.ones(3)), VE, ["b", "49"]),
    ("fdm-sigma", lambda: fk.FastDiagonalization(A_FREE, sigma=np.nan), VE, ["sigma"]),
    # ---- norms
    ("error-norm", lambda: fk.error(V, np.ones(V.ndofs), 0.0, norm="L3"), VE, ["norm", "'L3'"]),
    ("error-u-length", lambda: fk.error(V, np.ones(3), 0.0), VE, ["u", "81"]),
    ("error-u-nan", lambda: fk.error(V, np.full(V.ndofs, np.nan), 0.0), VE, ["u", "NaN"]),
    ("error-h1-grad", lambda: fk.error(V, np.ones(V.ndofs), 0.0, norm="H1"), VE, ["grad"]),
    ("error-exact-nan", lambda: fk.error(V, np.ones(81), returns_nan), VE, ["returns_nan"]),
    ("rate-short", lambda: fk.convergence_rate([1], [1]), VE, ["h", "errors"]),
    ("rate-text", lambda: fk.convergence_rate("ab", "cd"), TE, ["h"]),
    ("rate-negative", lambda: fk.convergence_rate([1, 0.5], [1, -1]), VE, ["errors", "positive"]),
    ("rate-same-h", lambda: fk.convergence_rate([0.5, 0.5], [1, 2]), VE, ["h", "different"]),
    # ---- configuration and files
    ("memory-limit-negative", lambda: fk.set_memory_limit(-1), VE, ["nbytes", "-1"]),
    ("memory-limit-text", lambda: fk.set_memory_limit("1"), TE, ["nbytes", "'1'"]),
    ("load-mesh-path-type", lambda: fk.load_mesh(3), TE, ["path", "3"]),
    ("load-mesh-missing", lambda: fk.load_mesh("no/such/mesh.toml"), VE, ["mesh.toml"]),
    (
        "save-mesh-folder",
        lambda: fk.save_mesh(fk.TensorMesh([M4]), "no/such/folder/m.toml"),
        VE,
        ["path", "folder"],
    ),
]


@pytest.mark.parametrize(
    ("call", "exc", "names"),
    [pytest.param(c, e, n, id=i) for i, c, e, n in API_CASES],
)
def test_api_bad_input(call, exc, names):
    with pytest.raises(exc) as info:
        call()
    assert isinstance(info.value, fk.FemkronError)
    message = str(info.value)
    for name in names:
        assert name in message, f"{name!r} not in {message!r}"


def test_case_count_and_distinct():
    ids = [case[0] for case in API_CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) + len(CLI_CASES) >= 60


def test_error_classes_are_python_ones():
    assert issubclass(fk.FemkronValueError, ValueError)
    assert issubclass(fk.FemkronTypeError, TypeError)
    assert issubclass(fk.ResourceError, MemoryError)
    for cls in (fk.FemkronValueError, fk.FemkronTypeError, fk.ResourceError, fk.ConvergenceError):
        assert issubclass(cls, fk.FemkronError)


# ---- the CLI: exit status 2 and one line on stderr naming the option -----------------------
CLI_CASES = [
    ("cells-zero", ["solve", "--cells", "0"], ["cells"]),
    ("cells-text", ["solve", "--cells", "x"], ["cells"]),
    ("cells-huge", ["solve", "--cells", "100000"], ["memory limit"]),
    ("order-high", ["solve", "--order", "30"], ["order", "24"]),
    ("order-zero", ["solve", "--order", "0"], ["order"]),
    ("dim-four", ["solve", "--dim", "4"], ["dim"]),
    ("method", ["solve", "--method", "lu"], ["method"]),
    ("nodes", ["solve", "--nodes", "cheb"], ["nodes"]),
    ("kappa-negative", ["solve", "--kappa", "-1"], ["kappa"]),
    ("dt-zero", ["solve", "heat", "--dt", "0"], ["dt"]),
    ("command", ["bogus"], ["bogus"]),
    ("problem", ["solve", "wave"], ["wave"]),
    ("mesh-missing", ["solve", "--mesh", "no/such/file.toml"], ["file.toml"]),
    ("json-folder", ["solve", "--json", "no/such/folder/out.json"], ["--json"]),
    ("eig-k", ["eig", "-k", "0"], ["k"]),
    ("levels", ["convergence", "--mesh", "meshes/bar.toml", "--levels", "0"], ["levels"]),
]


@pytest.mark.parametrize(("argv", "names"), [pytest.param(a, n, id=i) for i, a, n in CLI_CASES])
def test_cli_bad_input(argv, names, capsys, monkeypatch, request):
    monkeypatch.chdir(request.config.rootpath)
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    for name in names:
        assert name in lines[0], f"{name!r} not in {lines[0]!r}"

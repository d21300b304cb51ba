"""femkron.petsc: row-block Kronecker kernels (always), PETSc matrices and solves (when
petsc4py is importable), and the same checks under ``mpiexec -n 1/2/4``.

The PETSc tests run in-process on however many ranks pytest was started with, e.g.
``mpiexec -n 2 python -m pytest tests/test_petsc.py``; every collective call is reached by
every rank and assertions come after the collectives.
"""

import functools
import json
import os
import shutil
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

import femkron as fk
from femkron import petsc as fkp
from femkron.petsc import convert as _petsc_convert
from femkron.petsc import rows as _petsc_rows

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---- plain Kronecker kernels: no PETSc needed ---------------------------------------------
def _random_factor(rng, shape, density, dense):
    A = sp.random(*shape, density=density, random_state=rng, format="csr")
    A.data = rng.standard_normal(A.nnz)
    return A.toarray() if dense else A


def _dense(op):
    out = 0.0
    for c, f in op.terms:
        mats = [A.toarray() if sp.issparse(A) else A for A in f]
        out = out + c * functools.reduce(np.kron, mats)
    return out


@pytest.mark.parametrize(
    "shapes",
    [[(7, 5)], [(4, 6), (5, 3)], [(3, 3), (4, 4), (5, 5)], [(2, 3), (3, 2), (4, 1), (2, 2)]],
)
@pytest.mark.parametrize("seed", [0, 1])
def test_kron_rows_equal_numpy_kron_rows(shapes, seed):
    rng = np.random.default_rng(seed)
    terms = []
    for t in range(3):  # different patterns per term, some dense factors
        factors = [
            _random_factor(rng, s, density=0.5, dense=(t + d) % 3 == 0)
            for d, s in enumerate(shapes)
        ]
        terms.append((float(rng.uniform(-2, 2)), factors))
    op = fk.KronOperator(terms)
    full = _dense(op)
    n = op.shape[0]
    for start, stop in [(0, n), (0, 0), (n // 3, n // 3 + 1), (1, n - 1), (n - 2, n)]:
        block = fkp.kron_rows(op, start, stop)
        assert block.shape == (stop - start, op.shape[1])
        np.testing.assert_allclose(block.toarray(), full[start:stop], rtol=0, atol=1e-13)
        assert block.has_sorted_indices
        # no duplicates: canonical CSR keeps its entry count when summed
        again = block.copy()
        again.sum_duplicates()
        assert again.nnz == block.nnz


def test_kron_rows_pattern_is_product_of_union_patterns():
    V = fk.TensorSpace.box([(0, 1), (0, 1), (0, 1)], cells=(3, 2, 2), order=(2, 1, 3))
    bcs = fk.BoundaryConditions(V, {"left": fk.Robin(1.5, 0.0), "top": fk.Neumann(0.0)})
    A = bcs.constrain(fk.stiffness(V) + 0.3 * fk.mass(V) + bcs.robin_operator())
    block = fkp.kron_rows(A, 0, A.shape[0])
    # every factor of one axis here has the same tridiagonal-band pattern, so the row length
    # is the product of the 1D row lengths
    lengths = [np.diff(sp.csr_matrix(f).indptr) for f in A.terms[0][1]]
    expected = functools.reduce(np.multiply.outer, lengths).ravel()
    np.testing.assert_array_equal(np.diff(block.indptr), expected)
    np.testing.assert_allclose(block.toarray(), _dense(A), rtol=0, atol=1e-12)


def test_kron_rows_chunks_agree(monkeypatch):
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=(6, 5), order=2)
    A = fk.stiffness(V)
    whole = fkp.kron_rows(A, 3, 100)
    monkeypatch.setattr(_petsc_rows, "CHUNK_ENTRIES", 50)
    chunked = fkp.kron_rows(A, 3, 100)
    assert (whole != chunked).nnz == 0
    np.testing.assert_array_equal(whole.indices, chunked.indices)


def test_kron_rows_bad_input():
    op = fk.KronOperator.kron(np.eye(3), np.eye(2))
    with pytest.raises(fk.FemkronValueError, match="stop"):
        fkp.kron_rows(op, 4, 2)
    with pytest.raises(fk.FemkronValueError, match="start"):
        fkp.kron_rows(op, -1, 2)
    with pytest.raises(fk.FemkronTypeError, match="KronOperator"):
        fkp.kron_rows(np.eye(6), 0, 2)


@pytest.mark.parametrize("shape", [(10, 3), (7,), (3, 4, 5), (2, 9)])
@pytest.mark.parametrize("size", [1, 2, 3, 4])
def test_row_partition(shape, size):
    offsets = fkp.row_partition(shape, size)
    n = int(np.prod(shape))
    block = int(np.prod(shape[1:]))
    assert offsets[0] == 0 and offsets[-1] == n and len(offsets) == size + 1
    counts = np.diff(offsets)
    assert np.all(counts >= 0)
    assert np.all(offsets % block == 0)  # whole slabs of the first axis
    assert counts.max() - counts.min() <= block
    even = np.diff(fkp.row_partition(shape, size, aligned=False))
    assert even.sum() == n and even.max() - even.min() <= 1


def test_missing_petsc4py_names_the_install_route(monkeypatch):
    monkeypatch.setitem(sys.modules, "petsc4py", None)
    monkeypatch.setitem(sys.modules, "petsc4py.PETSc", None)
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=1)
    with pytest.raises(fkp.PetscUnavailableError) as info:
        fk.poisson(V, 1.0, method="petsc", ksp_type="cg", pc_type="gamg")
    message = str(info.value)
    assert "petsc4py" in message
    assert "apt-get install python3-petsc4py" in message
    assert "pip install petsc petsc4py" in message
    assert isinstance(info.value, ImportError) and isinstance(info.value, fk.FemkronError)
    with pytest.raises(fkp.PetscUnavailableError):
        fkp.to_petsc(fk.stiffness(V))
    assert fkp.available() is False


def test_petsc_options_need_method_petsc():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=1)
    with pytest.raises(TypeError, match="ksp_type"):
        fk.poisson(V, 1.0, method="fdm", ksp_type="cg")


# ---- PETSc, in-process on every rank ---------------------------------------------------------
@pytest.fixture(scope="module")
def petsc():
    petsc = pytest.importorskip("petsc4py.PETSc")
    pytest.importorskip("mpi4py")
    return petsc


@pytest.fixture(scope="module")
def comm(petsc):
    return petsc.COMM_WORLD.tompi4py()


def _operators():
    V2 = fk.TensorSpace.box([(0, 1), (0, 2)], cells=(9, 5), order=2)
    b2 = fk.BoundaryConditions(V2, {"left": fk.Robin(2.0), "top": fk.Neumann(0.0)})
    V3 = fk.TensorSpace.box([(0, 1)] * 3, cells=(5, 3, 2), order=(1, 2, 3))
    b3 = fk.BoundaryConditions(V3)
    return [
        b2.constrain(fk.stiffness(V2, kappa=(lambda x: 1 + x, 3.0)) + b2.robin_operator()),
        b3.constrain(fk.stiffness(V3) - 4.0 * fk.mass(V3)),
    ]


@pytest.mark.parametrize("which", [0, 1])
def test_to_petsc_rows_equal_serial_rows(petsc, comm, which):
    A = _operators()[which]
    mat = fkp.to_petsc(A)
    lo, hi = mat.getOwnershipRange()
    indptr, indices, data = mat.getValuesCSR()
    info = mat.getInfo(petsc.Mat.InfoType.LOCAL)
    total = comm.allreduce(int(info["nz_used"]))
    mat.destroy()
    local = sp.csr_matrix((data, indices, indptr), shape=(hi - lo, A.shape[1]))
    reference = A.tocsr()
    expected = fkp.row_partition(A.out_shape, comm.Get_size(), A.out_shape[0] >= comm.size)
    assert (lo, hi) == (expected[comm.rank], expected[comm.rank + 1])
    np.testing.assert_allclose(local.toarray(), reference[lo:hi].toarray(), rtol=0, atol=1e-13)
    assert info["mallocs"] == 0  # the preallocation was exact
    assert info["nz_allocated"] == info["nz_used"] == local.nnz
    assert total == fkp.kron_rows(A, 0, A.shape[0]).nnz


def test_each_rank_allocates_only_its_share(petsc, comm, monkeypatch):
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=(128, 64), order=2)
    A = fk.BoundaryConditions(V).constrain(fk.stiffness(V))
    # small temporaries, so the bound is tight
    monkeypatch.setattr(_petsc_rows, "CHUNK_ENTRIES", 2**12)
    calls = []
    original = fkp.kron_rows
    monkeypatch.setattr(  # the name to_petsc looks up
        _petsc_convert, "kron_rows", lambda op, a, b: calls.append((a, b)) or original(op, a, b)
    )
    tracemalloc.start()
    mat = fkp.to_petsc(A)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    lo, hi = mat.getOwnershipRange()
    mat.destroy()
    size = comm.Get_size()
    share = -(-A.out_shape[0] // size) * A.out_shape[1]
    assert calls == [(lo, hi)] and hi - lo <= share
    # everything numpy allocated meanwhile (tracemalloc sees it; PETSc's own copy is not
    # traced) stays below one int64-index CSR of this rank's rows (16 bytes per entry) plus
    # 1 MiB: on k ranks, about 1/k of the global matrix
    nnz_rows = original(A, lo, hi).nnz
    assert peak < 16 * nnz_rows + 2**20


def _poisson_cases():
    V = fk.TensorSpace.box([(0, 1), (0, 2)], cells=(10, 6), order=3)
    f = lambda x, y: np.sin(3 * x) * (1 + y * y)
    bc = {
        "left": fk.Dirichlet(lambda x, y: np.cos(y)),
        "right": fk.Neumann(lambda x, y: y),
        "bottom": fk.Robin(1.5, lambda x, y: x),
    }
    V3 = fk.TensorSpace.box([(0, 1)] * 3, cells=(6, 2, 3), order=2)
    return [
        (V, f, dict(bc=bc, kappa=(lambda x: 2 + x, lambda y: 1 + y * y))),
        (V3, lambda x, y, z: x + y * z, dict(bc={"back": fk.Dirichlet(1.0)}, sigma=2.0)),
        (V, lambda x, y: np.cos(np.pi * x) * np.cos(np.pi * y), dict(bc=fk.Neumann(0.0))),
        (V, f, dict(bc={"x": fk.Periodic(), "top": fk.Neumann(1.0)})),
    ]


@pytest.mark.parametrize("case", [0, 1, 2, 3])
def test_poisson_petsc_equals_serial(petsc, comm, case):
    V, f, kw = _poisson_cases()[case]
    serial = fk.poisson(V, f, method="direct", **kw)
    sol = fk.poisson(V, f, method="petsc", rtol=1e-13, ksp_type="cg", pc_type="gamg", **kw)
    scale = np.abs(serial.values).max()
    assert isinstance(sol, fk.Solution) and sol.info.method == "petsc"
    assert np.abs(sol.values - serial.values).max() <= 1e-10 * scale
    assert np.abs(sol.local - serial.values[sol.local_slice]).max() <= 1e-10 * scale
    # KSP stops on its recurrence residual; the true one (info.residual) drifts a little
    assert sol.info.iterations > 0 and sol.info.residuals[-1] <= 1e-13
    assert sol.info.residual <= 1e-11
    assert "cg" in sol.info.note and "gamg" in sol.info.note
    # the local blocks tile the x axis
    slices = comm.allgather((sol.local_slice.start, sol.local_slice.stop))
    assert slices[0][0] == 0 and slices[-1][1] == V.shape[0]
    assert all(a[1] == b[0] for a, b in zip(slices, slices[1:]))


def test_poisson_petsc_direct_and_boomeramg(petsc, comm):
    V, f, kw = _poisson_cases()[0]
    serial = fk.poisson(V, f, method="direct", **kw)
    scale = np.abs(serial.values).max()
    runs = []
    if petsc.Sys.hasExternalPackage("hypre"):
        runs.append(dict(pc_type="hypre", pc_hypre_type="boomeramg"))
    if petsc.Sys.hasExternalPackage("mumps"):
        runs.append(dict(ksp_type="preonly", pc_type="lu", pc_factor_mat_solver_type="mumps"))
    if not runs:
        pytest.skip("this PETSc has neither hypre nor mumps")
    for options in runs:
        sol = fk.poisson(V, f, method="petsc", rtol=1e-13, **kw, **options)
        assert np.abs(sol.values - serial.values).max() <= 1e-10 * scale, options


def test_poisson_petsc_local_only(petsc, comm):
    V, f, kw = _poisson_cases()[0]
    serial = fk.poisson(V, f, method="direct", **kw)
    sol = fk.poisson(V, f, method="petsc", rtol=1e-13, gather=False, **kw)
    assert sol.values is None
    scale = np.abs(serial.values).max()
    assert np.abs(sol.local - serial.values[sol.local_slice]).max() <= 1e-10 * scale
    with pytest.raises(fk.FemkronValueError, match="gather"):
        sol.error(lambda x, y: x)


def test_solve_method_petsc(petsc, comm):
    A = _operators()[0]
    b = np.linspace(-1, 2, A.shape[0])
    x, info = fk.solve(A, b, method="petsc", rtol=1e-13)
    ref = np.linalg.solve(A.toarray(), b)
    assert np.abs(x - ref).max() <= 1e-10 * np.abs(ref).max()
    assert info.method == "petsc" and info.residual <= 1e-12


def test_options_database_and_prefix(petsc, comm):
    V, f, kw = _poisson_cases()[1]
    db = petsc.Options()
    db.setValue("fkt_ksp_type", "gmres")  # the database wins over the caller's ksp_type
    try:
        sol = fk.poisson(V, f, method="petsc", options_prefix="fkt_", ksp_type="cg", **kw)
    finally:
        db.delValue("fkt_ksp_type")
    assert "KSP gmres" in sol.info.note
    assert not db.hasName("fkt_pc_type")  # the caller's options are not left behind


def test_bad_options_same_error_on_every_rank(petsc, comm):
    V, f, kw = _poisson_cases()[1]
    with pytest.raises(fk.FemkronValueError, match="ksp_type='nonsense'.*accepted: .*cg"):
        fk.poisson(V, f, method="petsc", ksp_type="nonsense", **kw)
    with pytest.raises(fk.FemkronTypeError, match="pc_type"):
        fk.poisson(V, f, method="petsc", pc_type=["gamg"], **kw)
    with pytest.raises(fk.ConvergenceError, match="did not converge"):
        fk.poisson(V, f, method="petsc", maxiter=1, pc_type="jacobi", **kw)
    if comm.Get_size() > 1:  # options that differ between ranks
        with pytest.raises(fk.FemkronValueError, match="differ between ranks"):
            fk.poisson(V, f, method="petsc", ksp_rtol=1e-6 * (1 + comm.rank), **kw)


def test_bad_layout_and_communicator(petsc, comm):
    A = _operators()[0]
    mat = fkp.to_petsc(A)
    lo, hi = mat.getOwnershipRange()
    last = comm.Get_size() - 1
    wrong = np.ones(hi - lo + (1 if comm.rank == last else 0))
    with pytest.raises(fk.FemkronValueError, match=f"rank {last}" if last else "layout"):
        fkp.to_petsc_vec(wrong, mat, local=True)
    with pytest.raises(fk.FemkronValueError, match="entries"):
        fkp.to_petsc_vec(np.ones(A.shape[0] + 1), mat)
    with pytest.raises(fk.FemkronTypeError, match="comm"):
        fkp.to_petsc(A, comm="world")
    with pytest.raises(fk.FemkronValueError, match="add up"):
        fkp.to_petsc(A, rows=1)
    with pytest.raises(fk.FemkronTypeError, match="KronOperator"):
        fkp.to_petsc(A.tocsr())
    if comm.Get_size() > 1:
        other = petsc.Vec().createSeq(A.shape[0], comm=petsc.COMM_SELF)
        with pytest.raises(fk.FemkronValueError, match="communicator"):
            fkp.ksp_solve(mat, other)
        other.destroy()
        shapes = _operators()[comm.rank % 2]
        with pytest.raises(fk.FemkronValueError, match="differs between ranks"):
            fkp.to_petsc(shapes)
    mat.destroy()
    if comm.Get_size() > 1:  # one free dof on the x axis cannot be split
        with pytest.raises(fk.FemkronValueError, match="fewer than"):
            fk.poisson(fk.TensorSpace.box([(0, 1)], cells=1, order=2), 1.0, method="petsc")


# ---- the same checks under mpiexec -n 1, 2, 4 ---------------------------------------------
def _mpiexec():
    exe = shutil.which("mpiexec")
    if exe is None:
        return None
    cmd = [exe]
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    if "Open MPI" in version or "OpenRTE" in version:
        cmd += ["--oversubscribe"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd += ["--allow-run-as-root"]
    return cmd


@pytest.mark.parametrize("ranks", [1, 2, 4])
def test_mpiexec_ranks(petsc, comm, ranks):
    if comm.Get_size() > 1:
        pytest.skip("already running under mpiexec")
    cmd = _mpiexec()
    if cmd is None:
        pytest.skip("no mpiexec")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMPI_MCA_orte", "PMIX_"))}
    env["PYTHONPATH"] = os.pathsep.join([ROOT] + [p for p in [env.get("PYTHONPATH")] if p])
    driver = os.path.join(ROOT, "tests", "mpi_petsc_driver.py")
    run = subprocess.run(
        cmd + ["-n", str(ranks), sys.executable, driver],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
    reports = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    assert run.returncode == 0, run.stdout + run.stderr
    assert sorted(r["rank"] for r in reports) == list(range(ranks))
    for r in reports:
        assert r["failures"] == []
        assert max(r["max_rel_diff"].values()) <= 1e-10
    rows = sorted(tuple(r["rows"]) for r in reports)
    assert rows[0][0] == 0 and all(a[1] == b[0] for a, b in zip(rows, rows[1:]))

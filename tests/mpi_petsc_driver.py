"""MPI driver for the PETSc tests: ``mpiexec -n K python tests/mpi_petsc_driver.py``.

Every rank compares the distributed solve with the serial femkron solve of the same problems,
checks that it generated only its own rows, and that a wrong local vector size on one rank is
the same error on every rank.  Rank 0 prints one JSON line per rank; exits 1 when a check fails.
"""

import json
import sys
import traceback

import numpy as np

import femkron as fk
from femkron import petsc as fkp
from femkron.petsc import convert


def problems():
    V2 = fk.TensorSpace.box([(0, 1), (0, 2)], cells=(9, 7), order=2)
    bc2 = {
        "left": fk.Dirichlet(lambda x, y: 1 + y),
        "right": fk.Robin(2.0, lambda x, y: np.cos(y)),
        "top": fk.Neumann(lambda x, y: x),
    }
    V3 = fk.TensorSpace.box([(0, 1), (0, 1), (0, 1)], cells=(6, 3, 4), order=(2, 1, 2))
    bc3 = {"front": fk.Neumann(1.0), "top": fk.Dirichlet(lambda x, y, z: x * z)}
    f2 = lambda x, y: np.exp(x) * (1 + y)
    f3 = lambda x, y, z: 1 + x * y * z
    return [
        ("2d", V2, f2, dict(bc=bc2, kappa=(lambda x: 1 + x, 2.0))),
        ("3d", V3, f3, dict(bc=bc3, sigma=0.5)),
        ("neumann", V2, lambda x, y: np.cos(np.pi * x), dict(bc=fk.Neumann(0.0))),
        ("periodic", V2, f2, dict(bc={"x": fk.Periodic()})),
    ]


def main():
    from mpi4py import MPI
    from petsc4py import PETSc

    comm = MPI.COMM_WORLD
    pcs = ("gamg", "hypre") if PETSc.Sys.hasExternalPackage("hypre") else ("gamg",)
    rank, size = comm.Get_rank(), comm.Get_size()
    report = {"rank": rank, "size": size, "max_rel_diff": {}, "failures": []}
    try:
        for name, V, f, kw in problems():
            serial = fk.poisson(V, f, method="direct", **kw)
            for pc in pcs:
                sol = fk.poisson(V, f, method="petsc", rtol=1e-13, pc_type=pc, **kw)
                scale = np.abs(serial.values).max()
                rel = float(np.abs(sol.values - serial.values).max() / scale)
                rel_local = float(np.abs(sol.local - serial.values[sol.local_slice]).max() / scale)
                report["max_rel_diff"][f"{name}/{pc}"] = max(rel, rel_local)
                if not max(rel, rel_local) <= 1e-10:
                    report["failures"].append(f"{name}/{pc}: relative difference {rel:.2e}")
        # each rank generates only its own rows
        V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=(16, 8), order=2)
        A = fk.BoundaryConditions(V).constrain(fk.stiffness(V))
        calls = []
        original = fkp.kron_rows

        def spy(op, start, stop):
            calls.append((start, stop))
            return original(op, start, stop)

        convert.kron_rows = spy  # the name to_petsc looks up
        try:
            mat = fkp.to_petsc(A)
        finally:
            convert.kron_rows = original
        lo, hi = mat.getOwnershipRange()
        share = -(-A.out_shape[0] // size) * A.out_shape[1]
        report["rows"] = [lo, hi]
        if calls != [(lo, hi)] or hi - lo > share:
            report["failures"].append(f"generated rows {calls}, owns {lo}:{hi}, share {share}")
        if int(mat.getInfo()["mallocs"]) != 0:
            report["failures"].append("PETSc needed mallocs: preallocation not exact")
        # a wrong local size on the last rank only: the same error on every rank
        nloc = hi - lo + (1 if rank == size - 1 else 0)
        try:
            fkp.to_petsc_vec(np.ones(nloc), mat, local=True)
            report["failures"].append("wrong local size accepted")
        except fk.FemkronValueError as err:
            if f"rank {size - 1}" not in str(err) and size > 1:
                report["failures"].append(f"error does not name the rank: {err}")
    except Exception:
        report["failures"].append(traceback.format_exc())
    reports = comm.gather(report, root=0)  # one writer: no interleaved lines
    if rank == 0:
        for r in reports:
            print(json.dumps(r), flush=True)
    return 1 if report["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())

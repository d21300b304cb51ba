"""``mpiexec -n K python -m femkron.petsc [--cells N --order P --dim D]``: time the assembly.

Runs :func:`femkron.petsc.benchmark.main`, which prints :func:`femkron.petsc.bench` as JSON on
rank 0.
"""

from .benchmark import main

if __name__ == "__main__":  # pragma: no cover - exercised through mpiexec
    raise SystemExit(main())

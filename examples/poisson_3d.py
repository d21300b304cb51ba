# %% [markdown]
# # Poisson in 3D: fast diagonalization and algebraic multigrid
#
# `-Δu = f` on the unit cube with `u = sin(πx) sin(πy) sin(πz)`. The 3D operator
# `Kx⊗My⊗Mz + Mx⊗Ky⊗Mz + Mx⊗My⊗Kz` is solved exactly by fast diagonalization (three 1D
# eigenproblems) and, for comparison, by AMG-preconditioned CG on the assembled matrix.

# %%

import os
import pathlib
import sys
import tempfile

import matplotlib.pyplot as plt
import numpy as np

import femkron as fk


def output_folder():
    arg = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else None
    default = os.path.join(tempfile.gettempdir(), "femkron-examples")
    folder = pathlib.Path(arg or os.environ.get("FEMKRON_EXAMPLE_OUT", default))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


OUT = output_folder()
SMALL = os.environ.get("FEMKRON_EXAMPLE_SMALL") == "1"

CELLS = 6 if SMALL else 16


def exact(x, y, z):
    return np.sin(np.pi * x) * np.sin(np.pi * y) * np.sin(np.pi * z)


def source(x, y, z):
    return 3 * np.pi**2 * exact(x, y, z)


V = fk.TensorSpace.box([(0, 1)] * 3, cells=CELLS, order=2)
print(f"{V.ndofs} dofs; the operator would take {fk.stiffness(V).describe()}")
for method in ("fdm", "amg"):
    sol = fk.poisson(V, source, method=method)
    print(f"{sol.info}; L2 error {sol.error(exact):.3e}")

# %%
axes = sol.plot(label="u", slices=(0.5, 0.5, 0.25))
axes[0].figure.savefig(OUT / "poisson_3d.png", dpi=110)
plt.close(axes[0].figure)
print("figure:", OUT / "poisson_3d.png")

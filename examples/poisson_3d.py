# %% [markdown]
# # Poisson in 3D: fast diagonalization and algebraic multigrid
#
# `-Δu = f` on the unit cube with `u = sin(πx) sin(πy) sin(πz)`. The 3D operator
# `Kx⊗My⊗Mz + Mx⊗Ky⊗Mz + Mx⊗My⊗Kz` is solved exactly by fast diagonalization (three 1D
# eigenproblems) and, for comparison, by AMG-preconditioned CG on the assembled matrix.
# The operator itself is kept as its 1D factors; the first line printed says how large it
# would be as an assembled sparse (CSR) matrix.

# %%


import numpy as np
from example_setup import SMALL, save_figure

import femkron as fk

CELLS = 6 if SMALL else 16


def exact(x, y, z):
    return np.sin(np.pi * x) * np.sin(np.pi * y) * np.sin(np.pi * z)


def source(x, y, z):
    return 3 * np.pi**2 * exact(x, y, z)


V = fk.TensorSpace.box([(0, 1)] * 3, cells=CELLS, order=2)
print(f"{V.ndofs} dofs; the stiffness operator is a {fk.stiffness(V).describe()}")
for method in ("fdm", "amg"):
    sol = fk.poisson(V, source, method=method)
    print(f"{sol.info}; L2 error {sol.error(exact):.3e}")

# %%
axes = sol.plot(label="u", slices=(0.5, 0.5, 0.25))
save_figure(axes[0].figure, "poisson_3d")

# %% [markdown]
# # A boundary layer: graded meshes
#
# The solution `u = sin(πx)·(1 − e^{−y/δ} − y(1 − e^{−1/δ}))` with `δ = 0.02` rises from 0
# to about 1 within a few δ of the wall `y = 0`. A uniform mesh wastes cells in the
# smooth interior and under-resolves the layer; the mesh of `meshes/boundary_layer.toml`
# grades the cells geometrically towards the wall. Both are tensor meshes, so the operator
# is still a Kronecker sum and the solve still an exact fast diagonalization.

# %%


import matplotlib.pyplot as plt
import numpy as np
from example_setup import MESHES, SMALL, save_figure

import femkron as fk

DELTA = 0.02
LEVELS = 2 if SMALL else 4


def exact(x, y):
    return np.sin(np.pi * x) * (1 - np.exp(-y / DELTA) - y * (1 - np.exp(-1 / DELTA)))


def source(x, y):  # -Δu
    return np.pi**2 * exact(x, y) + np.sin(np.pi * x) * np.exp(-y / DELTA) / DELTA**2


graded = fk.load_mesh(MESHES / "boundary_layer.toml")
print(graded.description)
rows = []
for level in range(LEVELS):
    factor = 2**level
    g = fk.TensorMesh([m.refine(factor) for m in graded])
    u = fk.TensorMesh([fk.Mesh1D.uniform(m.a, m.b, m.cells * factor) for m in graded])
    errs = []
    for mesh in (u, g):
        V = fk.TensorSpace.from_mesh(mesh, order=2)
        errs.append(fk.poisson(V, source).error(exact))
    rows.append((V.ndofs, *errs))
    print(
        f"{V.ndofs:>7} dofs: L2 error uniform {errs[0]:.3e}, graded {errs[1]:.3e} "
        f"({errs[0] / errs[1]:.0f}x smaller)"
    )
rows = np.array(rows)

# %%
V = fk.TensorSpace.from_mesh(graded, order=2)
sol = fk.poisson(V, source)
fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), layout="constrained")
fk.plot.plot_mesh(graded, ax=axes[0], title="graded mesh (boundary_layer.toml)")
sol.plot(ax=axes[1], label="u", title="Q2 solution on the graded mesh")
axes[2].loglog(rows[:, 0], rows[:, 1], "o-", label="uniform mesh")
axes[2].loglog(rows[:, 0], rows[:, 2], "s-", label="graded mesh")
axes[2].set_xlabel("degrees of freedom", fontsize=11)
axes[2].set_ylabel("L2 error", fontsize=11)
axes[2].set_title("same cell counts, different grading", fontsize=12)
axes[2].grid(True, which="both", alpha=0.3)
axes[2].legend()
axes[2].xaxis.set_minor_formatter(plt.NullFormatter())  # no crowded minor labels
save_figure(fig, "boundary_layer")

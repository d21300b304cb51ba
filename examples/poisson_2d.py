# %% [markdown]
# # Poisson in 2D with mixed boundary conditions
#
# `-Δu = f` on `[0, 2] × [0, 1]` with `u = sin(πx/4)·(1 + y + y²)`, chosen so that every kind
# of boundary condition is non-trivial: Dirichlet on the left and bottom, Neumann on the top,
# Robin on the right. The operator stays a Kronecker sum (the Robin term is a point matrix
# in x times the y mass matrix), so the solve is an exact fast diagonalization.

# %%


import matplotlib.pyplot as plt
import numpy as np
from example_setup import SMALL, save_figure

import femkron as fk

CELLS = (16, 8) if SMALL else (64, 32)


def exact(x, y):
    return np.sin(np.pi * x / 4) * (1 + y + y**2)


def grad_x(x, y):
    return np.pi / 4 * np.cos(np.pi * x / 4) * (1 + y + y**2)


def grad_y(x, y):
    return np.sin(np.pi * x / 4) * (1 + 2 * y)


def source(x, y):  # -Δu
    return (np.pi / 4) ** 2 * exact(x, y) - 2 * np.sin(np.pi * x / 4)


alpha = 3.0
bc = {
    "left": fk.Dirichlet(exact),  # x = 0
    "bottom": fk.Dirichlet(exact),  # y = 0
    "top": fk.Neumann(grad_y),  # ∂u/∂n = ∂u/∂y at y = 1
    "right": fk.Robin(alpha, lambda x, y: grad_x(x, y) + alpha * exact(x, y)),  # x = 2
}
V = fk.TensorSpace.box([(0, 2), (0, 1)], cells=CELLS, order=2)
sol = fk.poisson(V, source, bc=bc)
print(sol.info)
print(
    f"dofs {V.ndofs}, L2 error {sol.error(exact):.2e}, "
    f"H1 error {sol.error(exact, 'H1', grad=(grad_x, grad_y)):.2e}"
)

# %% [markdown]
# The 2D operator is kept as 1D factors. The right panel shows the sparsity of the same
# operator — the same boundary conditions, so three Kronecker terms `Kx⊗My + Mx⊗Ky` plus the
# Robin term `α e eᵀ⊗My` on the free dofs — built on a coarse 4 × 3-cell mesh so that its
# blocks can be seen: one block row per free x dof, each block a y-operator.

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), layout="constrained")
sol.plot(ax=axes[0], label="u")
fk.plot.plot_mesh(
    fk.TensorSpace.box([(0, 2), (0, 1)], cells=(8, 4), order=2),
    ax=axes[1],
    title="Q2 mesh (coarser than used) and dofs",
)
small = fk.TensorSpace.box([(0, 2), (0, 1)], cells=(4, 3), order=2)
system = fk.LinearSystem(small, source, bc=bc)  # what fk.poisson solves, on the coarse mesh
fk.plot.plot_spy(system.A, ax=axes[2])
axes[2].set_title(f"the same operator on 4 × 3 cells:\n{axes[2].get_title()}", fontsize=11)
save_figure(fig, "poisson_2d")

# %% [markdown]
# # The 2D Laplacian as a Kronecker sum, done right
#
# A popular shortcut builds the 2D stiffness matrix from the 1D one as `K⊗I + I⊗K`.
# The finite element matrix of `-Δu` on a tensor mesh is `K⊗M + M⊗K`: wherever one axis
# is differentiated, the other axis carries its 1D **mass** matrix `M`, not the identity.
# (`K⊗I + I⊗K` is `h` times the five-point finite difference Laplacian on a uniform grid.)
#
# This script shows the difference the only way that counts — by convergence:
#
# 1. an energy check: for `u = x` the exact energy is `∫|∇u|² = 1`;
# 2. the Poisson problem `-Δu = 2π² sin(πx) sin(πy)` solved with both matrices and the
#    same finite element load vector, on uniform and on graded meshes.

# %%

import matplotlib.pyplot as plt
import numpy as np
from example_setup import SMALL, save_figure

import femkron as fk

CELLS = [4, 8, 16, 32] if SMALL else [4, 8, 16, 32, 64, 128]

# %% [markdown]
# ## The two operators, built from the same 1D matrices


# %%
def operators(mesh):
    """FEM (K⊗M + M⊗K) and shortcut (K⊗I + I⊗K) on the interior dofs of Q1 on mesh²."""
    S = fk.Space1D(mesh, order=1)
    inner = slice(1, S.ndofs - 1)  # homogeneous Dirichlet: drop the two end dofs
    K = S.stiffness()[inner, inner]
    M = S.mass()[inner, inner]
    I = np.eye(K.shape[0])
    fem = fk.KronOperator([(1.0, (K, M)), (1.0, (M, K))])
    shortcut = fk.KronOperator([(1.0, (K, I)), (1.0, (I, K))])
    return S, fem, shortcut


# u(x, y) = x on the whole square (all dofs, no boundary condition): exact energy ∫|∇u|² = 1
S = fk.Space1D(fk.Mesh1D.uniform(0, 1, 8), order=1)
K, M, I = S.stiffness(), S.mass(), np.eye(S.ndofs)
u = np.add.outer(S.x, 0 * S.x).ravel()
energy_fem = float(u @ (fk.KronOperator([(1.0, (K, M)), (1.0, (M, K))]) @ u))
energy_short = float(u @ (fk.KronOperator([(1.0, (K, I)), (1.0, (I, K))]) @ u))
print(
    f"energy of u = x (exact 1): K⊗M + M⊗K gives {energy_fem:.6f}, "
    f"K⊗I + I⊗K gives {energy_short:.6f}"
)

# %% [markdown]
# The FEM operator integrates exactly; the shortcut counts the energy once per grid line
# (9 lines here). It is not an approximation of the same bilinear form.
#
# ## Convergence of the Poisson problem


# %%
def exact(x, y):
    return np.sin(np.pi * x) * np.sin(np.pi * y)


def source(x, y):
    return 2 * np.pi**2 * exact(x, y)


def errors(mesh_of):
    """Max nodal errors of the FEM and shortcut solutions with the FEM load vector."""
    rows = []
    for n in CELLS:
        mesh = mesh_of(n)
        S, fem, shortcut = operators(mesh)
        V = fk.TensorSpace([S, S])
        b = fk.load_vector(V, source).reshape(V.shape)[1:-1, 1:-1].ravel()
        X, Y = np.meshgrid(S.x[1:-1], S.x[1:-1], indexing="ij")
        u_exact = exact(X, Y).ravel()
        u_fem, _ = fk.solve(fem, b, method="fdm")
        u_short, _ = fk.solve(shortcut, b, method="direct")
        rows.append(
            (float(mesh.h.max()), np.abs(u_fem - u_exact).max(), np.abs(u_short - u_exact).max())
        )
    return np.array(rows)


# the graded family: one graded 4-cell mesh, every cell halved at each refinement, so the
# largest cell is 4/n times that of the coarse mesh and both families refine like 1/n
coarse = fk.Mesh1D.graded(0, 1, CELLS[0], ratio=2.0)
uniform = errors(lambda n: fk.Mesh1D.uniform(0, 1, n))
graded = errors(lambda n: coarse.refine(n // CELLS[0]))
for name, table in (("uniform", uniform), ("graded", graded)):
    print(f"\n{name} meshes: h, max error FEM, max error K⊗I + I⊗K")
    for h, e1, e2 in table:
        print(f"  {h:8.4f}  {e1:10.3e}  {e2:10.3e}")
    # least-squares slopes against the largest cell h, as the figure's legend measures them
    print(
        f"  measured rates: FEM {fk.convergence_rate(table[:, 0], table[:, 1]):.2f}, "
        f"shortcut {fk.convergence_rate(table[:, 0], table[:, 2]):.2f}"
    )

# %% [markdown]
# The FEM solution converges at rate 2 on both mesh families. The shortcut with the
# consistent load does not converge at all: its error tends to `max|u| = 1`, because
# `K⊗I + I⊗K ≈ h·(-Δ)` while the load is `≈ h²·f`, so the computed `u` is `O(h)`.
# Rescaling by `1/h` would recover the finite difference method on a uniform grid, but
# there is no single `h` to rescale by on a graded mesh. Use `fk.stiffness(V)`.

# %%
fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
fk.plot.plot_convergence(
    1.0 / np.array(CELLS),
    {
        "K⊗M + M⊗K (uniform)": uniform[:, 1],
        "K⊗M + M⊗K (graded)": graded[:, 1],
        "K⊗I + I⊗K (uniform)": uniform[:, 2],
        "K⊗I + I⊗K (graded)": graded[:, 2],
    },
    ax=ax,
    xlabel="1 / cells per axis",
    ylabel="max nodal error",
    title="-Δu = f: FEM operator vs shortcut",
)
save_figure(fig, "kron_laplacian_done_right")

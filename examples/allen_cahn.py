# %% [markdown]
# # Allen–Cahn: phase separation, coarsening and a decreasing energy
#
# $u_t = \varepsilon^2 \Delta u + u - u^3$ with zero flux is the gradient flow of
#
# $$E(u) = \int \tfrac{\varepsilon^2}{2} |\nabla u|^2 + \tfrac14 (u^2 - 1)^2 \,dx,$$
#
# so $E$ never increases. From small random values the two phases $u = \pm 1$ separate
# (time scale 1), then the interfaces, of width about $\varepsilon$, shorten (coarsening).
# `fk.reaction_diffusion` steps it with SBDF2: diffusion implicit, $u - u^3$ explicit.
# In 1D a single interface relaxes to $\tanh(x / (\sqrt2\,\varepsilon))$, whose energy is
# $2\sqrt2\,\varepsilon/3$ — a check of the whole discretisation.

# %%
import matplotlib.pyplot as plt
import numpy as np
from example_setup import SMALL, save_figure

import femkron as fk

EPS = 0.02
CELLS = 24 if SMALL else 64
T_END = 12.0 if SMALL else 40.0


def energy(V, u, eps):
    """E(u): eps²/2 uᵀKu with the FE stiffness, and ∫ (u_h² - 1)²/4 by Gauss quadrature."""
    u = np.asarray(u).reshape(-1)
    grad = 0.5 * eps**2 * float(u @ (fk.stiffness(V) @ u))
    pts, wts = [], []
    for s in V.spaces:  # 2p + 2 Gauss points per cell: exact for the degree-4p integrand
        x, w = fk.gauss_legendre(2 * s.order + 2)
        a, width = s.mesh.nodes[:-1, None], np.diff(s.mesh.nodes)[:, None]
        pts.append((a + width * (x + 1) / 2).ravel())
        wts.append((width / 2 * w).ravel())
    U = V.evaluate(u, pts)
    F = (U**2 - 1) ** 2 / 4
    potential = float(np.einsum("i,i->", wts[0], F) if V.dim == 1 else wts[0] @ F @ wts[1])
    return grad + potential


# %% [markdown]
# ## Coarsening in 2D

# %%
V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=CELLS, order=2)
u0 = 0.1 * np.random.default_rng(3).standard_normal(V.shape)
rd = fk.reaction_diffusion(V, u0, EPS**2, lambda u: u - u**3, t_end=T_END, dt=0.02, snapshots=41)
E = np.array([energy(V, frame, EPS) for frame in rd.values])
print(rd)
for i in range(0, len(rd.t), 10):
    print(f"t = {rd.t[i]:6.2f}: E = {E[i]:.6f}, mean u = {rd.values[i].mean():+.4f}")
print(f"largest energy increase between snapshots: {max(np.diff(E).max(), 0.0):.3g}")
print(f"max |u| at the end: {np.abs(rd.values[-1]).max():.6f}")

# %%
fig = plt.figure(figsize=(14, 3.6), constrained_layout=True)
grid = fig.add_gridspec(1, 4, width_ratios=(1, 1, 1.2, 1.1), wspace=0.08)
for j, i in enumerate((2, 10, 40)):
    ax = fig.add_subplot(grid[0, j])
    fk.plot.plot_function(V, rd.values[i], ax=ax, fig=fig, kind="pcolormesh", cmap="coolwarm",
                          colorbar=j == 2, title=f"t = {rd.t[i]:g}")  # fmt: skip
    for artist in ax.collections:  # one colour scale, u in [-1, 1], for the shared colourbar
        artist.set_clim(-1.0, 1.0)
ax = fig.add_subplot(grid[0, 3])
ax.semilogy(rd.t, E, "o-", ms=3)
ax.set_xlabel("t")
ax.set_ylabel("energy E(u)")
ax.set_title("the energy never increases")
ax.grid(True, which="both", alpha=0.3)
save_figure(fig, "allen_cahn")

# %% [markdown]
# ## One interface in 1D: the tanh profile and its energy

# %%
eps1 = 0.05
V1 = fk.TensorSpace.box([(0, 1)], cells=64, order=2)
step = fk.reaction_diffusion(
    V1, lambda x: 0.8 * np.sign(x - 0.5), eps1**2, lambda u: u - u**3, t_end=10.0,
    dt=0.01, snapshots=2,
)  # fmt: skip
profile = np.tanh((V1.coords[0] - 0.5) / (np.sqrt(2) * eps1))
E1 = energy(V1, step.values[-1], eps1)
print(f"1D interface: energy {E1:.6f}, theory 2*sqrt(2)*eps/3 = {2 * np.sqrt(2) * eps1 / 3:.6f}")
print(f"1D interface: max |u - tanh profile| = {np.abs(step.values[-1] - profile).max():.2e}")

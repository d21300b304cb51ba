# %% [markdown]
# # Gray–Scott patterns: spots and stripes
#
# Pearson's (1993) system on a periodic square,
#
# $$u_t = D_u \Delta u - u v^2 + F(1 - u), \qquad v_t = D_v \Delta v + u v^2 - (F + k) v,$$
#
# with $D_u = 2\cdot10^{-5}$, $D_v = 10^{-5}$, from his initial state ($u = 1$, $v = 0$ but a
# small square in the middle, with 1 % noise). `fk.reaction_diffusion` takes the diffusion
# implicitly and the reaction explicitly (SBDF2): each step is one fast-diagonalization
# solve per species with a step operator set up once.
#
# Why implicit diffusion: an explicit step would need $\Delta t \le 2/(D_u \lambda_{\max})$
# with $\lambda_{\max}$ the largest eigenvalue of $M^{-1}K$ — $24/h^2$ for periodic Q1 — while
# the reaction alone allows $\Delta t = 1$.

# %%
import matplotlib.pyplot as plt
import numpy as np
import scipy.linalg as sla
import scipy.ndimage as ndi
from example_setup import SMALL, output_folder, save_figure

import femkron as fk
from femkron.bench.reaction import (
    DIFFUSION,
    PEARSON,
    gray_scott,
    gray_scott_initial,
    reaction_case,
)

LENGTH = 1.25 if SMALL else 2.5
CELLS = 64 if SMALL else 256
T_END = 3000 if SMALL else 10000
V = fk.TensorSpace.box([(0, LENGTH)] * 2, cells=CELLS, order=1)
BC = {"x": fk.Periodic(), "y": fk.Periodic()}
h = LENGTH / CELLS

# %% [markdown]
# ## The explicit stability bound against the step used

# %%
bcs = fk.BoundaryConditions(V, BC)
lam_max = sum(sla.eigh(K, M, eigvals_only=True)[-1] for K, M in bcs.axis_matrices())
dt_explicit = 2 / (DIFFUSION[0] * lam_max)
print(f"h = {h:.6g}: lambda_max(M^-1 K) = {lam_max:.6g} (24/h^2 = {24 / h**2:.6g})")
print(f"explicit diffusion needs dt <= {dt_explicit:.4g}; the IMEX step used: dt = 1")

# %% [markdown]
# ## Two points of Pearson's parameter plane

# %%
u0 = gray_scott_initial(V, seed=1)
runs = {}
for name, (F, k) in PEARSON.items():
    rd = fk.reaction_diffusion(
        V, u0, DIFFUSION, gray_scott(F, k), t_end=T_END, dt=1.0, bc=BC, snapshots=4
    )
    runs[name] = rd
    u, v = rd.values[-1]
    labels, count = ndi.label(v > 0.1)
    print(
        f"{name}: F = {F}, k = {k}: {count} connected regions of v > 0.1 covering "
        f"{100 * np.mean(v > 0.1):.3g} % of the square; {min(u.min(), v.min()):.3g} <= u, v "
        f"<= {max(u.max(), v.max()):.3g}"
    )
    print(f"  {rd}")

# %%
fig, axes = plt.subplots(2, 4, figsize=(13, 6.6), constrained_layout=True)
for row, (name, rd) in zip(axes, runs.items()):
    top = float(rd.values[:, 1].max())  # one colour scale per row, for its colourbar
    for ax, t, frame in zip(row, rd.t, rd.values):
        title = f"{name}, t = {t:g}"
        fk.plot.plot_function(V, frame[1], ax=ax, fig=fig, kind="pcolormesh", cmap="magma",
                              label="v", colorbar=ax is row[-1], title=title)  # fmt: skip
        for artist in ax.collections:
            artist.set_clim(0.0, top)
fig.suptitle("Gray–Scott, SBDF2 with dt = 1, Q1 periodic: v at four times", fontsize=13)
save_figure(fig, "gray_scott")

# %% [markdown]
# The stripes growing, as an animation (one frame per snapshot;
# `ReactionDiffusionSolution.animate`, here of the species v).

# %%
gif = runs["stripes"].animate(output_folder() / "gray_scott.gif", species=1, fps=2, label="v")
print("animation:", gif)

# %% [markdown]
# ## Cost of a step
#
# One SBDF2 step is two fast solves, two mass products and the reaction. The benchmark
# (`femkron bench --kind reaction`) times it next to one fdm solve of the same size.

# %%
step, solve = reaction_case(2000 if SMALL else 513**2, steps=10)
print(
    f"{step['cells']} x {step['cells']} Q1 ({step['dofs']} dofs per species): one SBDF2 step "
    f"{1e3 * step['seconds']:.3g} ms, one fdm solve {1e3 * solve['seconds']:.3g} ms; "
    f"10 000 steps about {step['steps_10000'] / 60:.3g} min"
)

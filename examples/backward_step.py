# %% [markdown]
# # Potential flow over a backward-facing step
#
# A channel `[0, 6] × [0, 1]` without the step `[0, 1] × [0, 0.5]` (`fk.BoxUnion.step`).
# The velocity of an ideal (inviscid, irrotational) flow is `∇φ` with `Δφ = 0`: a unit inflow
# `∂φ/∂n = -1` over the inlet `x = 0`, walls `∂φ/∂n = 0` (the `"boundary"`, the step's faces
# included), and `φ = 0` at the outlet `x = 6`. Mass is conserved: the flux `∫ ∂φ/∂x dy`
# through every cross-section equals the inflow `0.5`, and far downstream the flow is uniform,
# `u = 0.5`. At the step's corner (a re-entrant corner of angle `3π/2`) the speed grows like
# `r^{-1/3}`: it is unbounded, and each refinement shows a larger peak.

# %%
import matplotlib.pyplot as plt
import numpy as np
from example_setup import SMALL, save_figure

import femkron as fk
from femkron.fem.quadrature import gauss_legendre

LENGTH, STEP = 6.0, (1.0, 0.5)
bc = {"x=0": fk.Neumann(-1.0), "x=6": fk.Dirichlet(0.0), "boundary": fk.Neumann(0.0)}


def velocity(sol, x, y):
    """``∇φ`` at the points ``x`` (a number) × ``y`` (an array), box by box of the union."""
    U = sol.V
    out = np.full((2, y.size), np.nan)
    for box in U.boxes:
        W = U.box_space(box)
        (a, b), (c, d) = W.bounds
        here = (a <= x <= b) & (c <= y) & (y <= d) & np.isnan(out[0])
        if not here.any():
            continue
        ranges = [U.dof_range(k, lo, hi) for k, (lo, hi) in enumerate(box)]
        values = sol.values[np.ix_(*ranges)]
        for k, der in enumerate(((1, 0), (0, 1))):
            Ex, Ey = W.eval_matrices([np.array([x]), y[here]], derivative=der)
            out[k, here] = (Ex @ values @ Ey.T).ravel()
    return out


def velocity_x(sol, x, y):
    return velocity(sol, x, y)[0]


def flux(sol, x, bottom):
    """``∫ ∂φ/∂x dy`` over the cross-section at ``x``: Gauss rule on every cell in ``y``."""
    ys = sol.V.spaces[1].mesh.nodes
    ys = ys[ys >= bottom - 1e-12]
    t, w = gauss_legendre(8)
    total = 0.0
    for y0, y1 in zip(ys[:-1], ys[1:]):
        yq = 0.5 * (y0 + y1) + 0.5 * (y1 - y0) * t
        total += 0.5 * (y1 - y0) * w @ velocity_x(sol, x, yq)
    return total


for cells in [4, 8, 16] if SMALL else [4, 8, 16, 32]:
    S = fk.BoxUnion.step(cells=cells, order=2, length=LENGTH, step=STEP)
    sol = fk.poisson(S, 0.0, bc=bc)
    stations = [(0.5, STEP[1]), (1.5, 0.0), (3.0, 0.0), (5.5, 0.0)]
    fluxes = [flux(sol, x, bottom) for x, bottom in stations]
    far = velocity_x(sol, 5.5, np.linspace(0.0, 1.0, 11))
    corner = np.abs(velocity_x(sol, STEP[0], np.array([STEP[1]])))[0]
    deviation = max(abs(q - 0.5) for q in fluxes)
    print(
        f"{cells} cells per unit: flux through x = 0.5, 1.5, 3, 5.5 within {deviation:.1e} of "
        f"0.5; far-field u within {np.abs(far - 0.5).max():.1e} of 0.5; "
        f"u at the corner {corner:.4f}; {sol.info.iterations} interface iterations"
    )

# %%
fig, ax = plt.subplots(figsize=(12, 2.9), layout="constrained")
fk.plot.plot_union(
    sol, ax=ax, label="potential φ", cmap="viridis", title="potential flow over a step"
)
X, Y = np.meshgrid(np.linspace(0.05, LENGTH - 0.05, 40), np.linspace(0.03, 0.97, 12), indexing="ij")
inside = ~((X < STEP[0]) & (Y < STEP[1]))
Ux, Uy = np.full(X.shape, np.nan), np.full(X.shape, np.nan)
for i in range(X.shape[0]):
    col = inside[i]
    if col.any():
        Ux[i, col], Uy[i, col] = velocity(sol, X[i, 0], Y[i, col])
ax.quiver(X[inside], Y[inside], Ux[inside], Uy[inside], color="w", scale=30, width=0.002)
save_figure(fig, "backward_step")

# %% [markdown]
# # The re-entrant corner of the L-shape
#
# The L-shape `[-1,1]² \ (0,1]×[-1,0)` is a union of two boxes (`fk.BoxUnion.lshape`): femkron
# solves each box exactly by fast diagonalization and glues them by conjugate gradients on the
# interface Schur complement. The corner singularity `u = r^{2/3} sin(2θ/3)` converges only at
# the rates `h^{2/3}` (H1) and `h^{4/3}` (L2) on uniform meshes, whatever the order; nodes
# graded toward the corner, `±(i/n)^β` with `β > 3p/2`, restore the rate `p`. Geometric layers
# and a high order give the first eigenvalue, 9.6397238440219, to eight digits.

# %%
import matplotlib.pyplot as plt
import numpy as np
from example_setup import SMALL, save_figure

import femkron as fk

LAMBDA_1 = 9.6397238440219  # Fox, Henrici & Moler 1967; Trefethen & Betcke 2006


def theta(x, y):
    t = np.arctan2(y, x)
    return np.where(t < 0, t + 2 * np.pi, t)  # from the re-entrant edge y = 0, x > 0


def u(x, y):
    return np.hypot(x, y) ** (2 / 3) * np.sin(2 * theta(x, y) / 3)


def ux(x, y):
    return -(2 / 3) * np.maximum(np.hypot(x, y), 1e-300) ** (-1 / 3) * np.sin(theta(x, y) / 3)


def uy(x, y):
    return (2 / 3) * np.maximum(np.hypot(x, y), 1e-300) ** (-1 / 3) * np.cos(theta(x, y) / 3)


def power_mesh(n, beta):
    s = (np.arange(n + 1) / n) ** beta
    return fk.Mesh1D(np.concatenate([-s[::-1], s[1:]]))


cells = [8, 16, 32] if SMALL else [8, 16, 32, 64, 128]
curves = {}
for p, beta in ((1, 1.0), (2, 1.0), (1, 2.0), (2, 3.5)):
    errs, its = [], []
    for n in cells:
        L = fk.BoxUnion.lshape(order=p, mesh=power_mesh(n, beta))
        sol = fk.poisson(L, 0.0, bc={"boundary": fk.Dirichlet(u)})
        errs.append(sol.error(u, "H1", grad=(ux, uy), quad=p + 6))
        its.append(sol.info.iterations)
    rate = fk.convergence_rate([1 / n for n in cells[-3:]], errs[-3:])
    curves[(p, beta)] = errs
    print(f"Q{p}, beta = {beta}: H1 rate {rate:.2f}, interface iterations {its}")

# the first eigenvalue: ten geometric layers toward the corner, order 6
m = fk.Mesh1D.graded(0.0, 1.0, cells=10, ratio=3.0)
Lg = fk.BoxUnion.lshape(order=6, mesh=fk.Mesh1D(np.concatenate([-m.nodes[::-1], m.nodes[1:]])))
w, v = fk.eigen(Lg, k=1)
print(f"lambda_1 = {w[0]:.10f} ({Lg.ndofs} dofs), error {w[0] - LAMBDA_1:.1e}")

# %%
Lu = fk.BoxUnion.lshape(cells=16, order=1)
su = fk.poisson(Lu, 0.0, bc={"boundary": fk.Dirichlet(u)})
err = np.abs(Lu.interpolate(u) - su.vector)
fig, axes = plt.subplots(1, 3, figsize=(15, 4.4), layout="constrained")
fk.plot.plot_union(
    Lg, v[:, 0] * np.sign(v[:, 0].sum()), ax=axes[0], label="u", title=f"first mode, λ = {w[0]:.8f}"
)
fk.plot.plot_union(
    Lu,
    err,
    ax=axes[1],
    cmap="magma",
    label="|u_h - u|",
    title="error of r^(2/3) sin(2θ/3), uniform Q1",
)
for (p, beta), errs in curves.items():
    axes[2].loglog(cells, errs, "o-", label=f"Q{p}, " + ("uniform" if beta == 1 else f"β = {beta}"))
axes[2].set_xlabel("cells per axis", fontsize=11)
axes[2].set_ylabel("H1 error", fontsize=11)
axes[2].set_title("uniform: h^(2/3); graded: h^p", fontsize=12)
axes[2].grid(True, which="both", alpha=0.3)
axes[2].legend()
save_figure(fig, "lshape_corner")

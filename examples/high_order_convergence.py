# %% [markdown]
# # High-order elements: measured convergence rates
#
# For a smooth solution, Q_p elements converge like `h^{p+1}` in L2 and `h^p` in the H1
# seminorm. This script measures the rates for p = 1 … 5 (GLL nodes) on `-Δu = f` with
# `u = sin(2πx) sin(πy)`, and shows that at a fixed number of dofs higher order wins.

# %%


import matplotlib.pyplot as plt
import numpy as np
from example_setup import SMALL, save_figure

import femkron as fk

ORDERS = [1, 2, 3, 4] if SMALL else [1, 2, 3, 4, 5]
CELLS = [2, 4, 8, 16] if SMALL else [2, 4, 8, 16, 32]


def exact(x, y):
    return np.sin(2 * np.pi * x) * np.sin(np.pi * y)


def gx(x, y):
    return 2 * np.pi * np.cos(2 * np.pi * x) * np.sin(np.pi * y)


def gy(x, y):
    return np.pi * np.sin(2 * np.pi * x) * np.cos(np.pi * y)


def source(x, y):
    return 5 * np.pi**2 * exact(x, y)


results = {}
for p in ORDERS:
    cells = [n for n in CELLS if (n * p + 1) ** 2 <= 300_000]
    h, l2, h1, dofs = [], [], [], []
    for n in cells:
        V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=n, order=p)
        sol = fk.poisson(V, source)
        h.append(1 / n)
        l2.append(sol.error(exact))
        h1.append(sol.error(exact, "H1", grad=(gx, gy)))
        dofs.append(V.ndofs)
    # fit only where the error is well above round-off
    keep = np.array(l2) > 1e-11
    rate_l2 = fk.convergence_rate(np.array(h)[keep][-3:], np.array(l2)[keep][-3:])
    rate_h1 = fk.convergence_rate(h[-3:], h1[-3:])
    print(f"Q{p}: L2 rate {rate_l2:.2f} (expected {p + 1}), H1 rate {rate_h1:.2f} (expected {p})")
    results[p] = (np.array(h), np.array(l2), np.array(dofs))

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), layout="constrained")
for p, (h, l2, dofs) in results.items():
    axes[0].loglog(h, l2, "o-", label=f"Q{p}")
    axes[1].loglog(dofs, l2, "o-", label=f"Q{p}")
axes[0].set_xlabel("h (cell size)", fontsize=11)
axes[1].set_xlabel("degrees of freedom", fontsize=11)
for a in axes:
    a.xaxis.set_minor_formatter(plt.NullFormatter())  # no crowded minor labels
axes[0].set_xticks(1 / np.array(CELLS), [f"1/{n}" for n in CELLS])
for a, t in zip(axes, ("error vs cell size: slopes p + 1", "error vs dofs: high order wins")):
    a.set_ylabel("L2 error", fontsize=11)
    a.set_title(t, fontsize=12)
    a.grid(True, which="both", alpha=0.3)
    a.legend()
save_figure(fig, "high_order_convergence")

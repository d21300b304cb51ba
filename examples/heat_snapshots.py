# %% [markdown]
# # The heat equation: snapshots and the time step
#
# `u_t = Δu` from a hot spot, Crank–Nicolson (θ = 1/2). Every step solves
# `(M + θ dt A) uⁿ⁺¹ = (M − (1−θ) dt A) uⁿ`, again a Kronecker sum, solved by fast
# diagonalization after a single setup.
#
# The explicit scheme (θ = 0) is only stable for `dt ≤ 2 / λ_max`, where `λ_max` is the
# largest eigenvalue of `M⁻¹A`; it is the sum of the largest 1D eigenvalues, so it costs
# two tiny 1D eigenproblems to know.

# %%


import numpy as np
import scipy.linalg as sla
from example_setup import SMALL, save_figure

import femkron as fk

CELLS = 12 if SMALL else 32
V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=CELLS, order=2)


def hot_spot(x, y):
    return np.exp(-80 * ((x - 0.35) ** 2 + (y - 0.6) ** 2))


ht = fk.heat(V, hot_spot, t_end=0.015, dt=2.5e-4, theta=0.5, snapshots=6)
print(ht, "|", ht.info)

# %% [markdown]
# ## Stability of the explicit scheme
#
# Above the limit the highest mode grows by `|1 − dt λ_max|` per step: started by round-off
# only, it still takes over after a few hundred steps.

# %%
lam_max = 0.0
for s in V.spaces:
    K = s.stiffness().toarray()[1:-1, 1:-1]
    M = s.mass().toarray()[1:-1, 1:-1]
    lam_max += sla.eigh(K, M, eigvals_only=True)[-1]
dt_crit = 2.0 / lam_max
print(f"λ_max = {lam_max:.4g}, explicit limit dt = 2/λ_max = {dt_crit:.3g}")
for factor in (0.9, 1.2):
    dt = factor * dt_crit
    run = fk.heat(
        V, hot_spot, t_end=300 * dt, dt=dt, theta=0.0, snapshots=2, allow_unstable=factor > 1
    )
    print(
        f"  θ = 0, dt = {factor} × limit: max |u| after 300 steps = "
        f"{np.abs(run.values[-1]).max():.3g}"
    )
cn = fk.heat(V, hot_spot, t_end=150 * 10 * dt_crit, dt=10 * dt_crit, theta=0.5, snapshots=2)
print(f"  θ = 1/2, dt = 10 × limit: max |u| = {np.abs(cn.values[-1]).max():.3g} (stable)")

# %%
axes = fk.plot.plot_heat(ht, label="temperature u")
axes[0].figure.suptitle("u_t = Δu, Crank–Nicolson, Q2", fontsize=13)
save_figure(axes[0].figure, "heat_snapshots")

# %% [markdown]
# # Drum modes: eigenvalues from 1D eigenproblems
#
# The vibration modes of a rectangular drum solve `K u = λ M u` with Dirichlet edges.
# Because `K = Kx⊗My + Mx⊗Ky` and `M = Mx⊗My`, every 2D eigenpair is a product of 1D ones:
# `λ = λx + λy`, `u = ux ⊗ uy`. femkron computes the 1D pairs only, and the exact values
# `π²(m²/a² + n²/b²)` show the `h^{2p}` convergence of the eigenvalues.

# %%


import numpy as np
from example_setup import SMALL, save_figure

import femkron as fk

A, B = 1.0, 1.5  # the drum [0, A] × [0, B]
V = fk.TensorSpace.box([(0, A), (0, B)], cells=8 if SMALL else 16, order=3)
w, v = fk.eigen(V, k=9)
mn = [(m, n) for m in range(1, 10) for n in range(1, 10)]
exact = np.sort([np.pi**2 * (m**2 / A**2 + n**2 / B**2) for m, n in mn])[:9]
for i in range(9):
    print(f"λ{i + 1}: {w[i]:12.6f}   exact {exact[i]:12.6f}   rel. error {w[i] / exact[i] - 1:.1e}")

# convergence of the first eigenvalue: rate 2p
for p in (1, 2, 3):
    errs, hs = [], []
    for n in (2, 4, 8, 16):
        Vn = fk.TensorSpace.box([(0, A), (0, B)], cells=n, order=p)
        errs.append(fk.eigen(Vn, k=1)[0][0] - exact[0])
        hs.append(B / n)
    print(f"Q{p}: λ1 converges at rate {fk.convergence_rate(hs, errs):.2f} (expected {2 * p})")

# %% [markdown]
# A square drum has double eigenvalues (`m² + n² = n² + m²`); any combination of the two
# modes is a mode, which is why the pictures of degenerate modes differ between codes.

# %%
axes = fk.plot.plot_modes(V, w, v, exact=exact, ncols=3)
axes[0].figure.suptitle(f"modes of the drum [0, {A:g}] × [0, {B:g}] (Q3)", fontsize=13)
save_figure(axes[0].figure, "drum_modes")

# %% [markdown]
# # Assembly benchmark (small)
#
# Three ways to get the CSR matrix of the 2D Q2 stiffness operator, and the cost of one
# product with it:
#
# * `KronOperator.tocsr()` — from the 1D factors (`Kx⊗My + Mx⊗Ky`);
# * `scipy.sparse.kron` by hand on the same factors (the textbook way);
# * `fk.assemble` — element-by-element assembly (what general coefficients need);
# * and the matrix-free product `A @ u` (sum factorisation) against `csr @ u`.
#
# Every method must give the same matrix; the timings are this machine's (best of 3),
# not a claim.

# %%


import time

import numpy as np
import scipy.sparse as sp
from example_setup import SMALL, save_figure

import femkron as fk

SIZES = [8, 16, 32] if SMALL else [16, 32, 64, 128, 256]


def best_of(fn, *args, repeat=3):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(*args)
        times.append(time.perf_counter() - t0)
    return min(times), out


def scipy_kron(Kx, Ky, Mx, My):
    return (sp.kron(Kx, My) + sp.kron(Mx, Ky)).tocsr()


rows = []
for n in SIZES:
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=n, order=2)
    A = fk.stiffness(V)
    (Kx, Ky), (Mx, My) = [s.stiffness() for s in V.spaces], [s.mass() for s in V.spaces]
    t_kron, C1 = best_of(A.tocsr)
    t_scipy, C2 = best_of(scipy_kron, Kx, Ky, Mx, My)
    t_elem, C3 = best_of(fk.assemble, V)
    assert abs(C1 - C2).max() < 1e-10 and abs(C1 - C3).max() < 1e-10
    u = np.random.default_rng(0).standard_normal(V.ndofs)
    t_free, y1 = best_of(A.__matmul__, u)
    t_csr, y2 = best_of(C1.__matmul__, u)
    assert np.allclose(y1, y2)
    for name, t in (
        ("KronOperator.tocsr", t_kron),
        ("scipy.sparse.kron", t_scipy),
        ("element by element", t_elem),
        ("matvec, matrix-free", t_free),
        ("matvec, CSR", t_csr),
    ):
        rows.append({"method": name, "dofs": V.ndofs, "seconds": t})
    diff = max(abs(C1 - C2).max(), abs(C1 - C3).max()) / abs(C1).max()
    print(
        f"{V.ndofs:>8} dofs: tocsr {t_kron:.2e} s, scipy.kron {t_scipy:.2e} s, "
        f"element {t_elem:.2e} s | matvec free {t_free:.2e} s, csr {t_csr:.2e} s | "
        f"max |difference| / max |A|: {diff:.1e}"
    )

# %%
ax = fk.plot.plot_benchmark(rows, title="2D Q2 stiffness: build and apply (best of 3)")
ax.figure.set_size_inches(7.5, 5)
save_figure(ax.figure, "assembly_benchmark")

"""BLAS threads chosen by problem size (threadpoolctl).

Small dense and sparse kernels run faster on one thread: waking the BLAS threads and their
contention with other work cost more than they gain (the 98×98 eigenproblem of a 10^6-dof
fast diagonalization: 8-18 ms on one thread, 36-270 ms with two on a loaded 2-core machine).

Examples
--------
>>> with threads_for(100):
...     pass
"""

from __future__ import annotations

import contextlib

__all__ = ["SERIAL_BELOW", "threads_for"]

#: Below this many unknowns a solver runs BLAS on one thread: on small problems the threads'
#: wake-up and contention cost more than they gain (fdm at 10^4 dofs on a loaded 2-core
#: machine: 0.196 s with the default threads, 0.003 s with one).
SERIAL_BELOW = 100_000

_controller = None


def threads_for(n):
    """A context that limits BLAS/OpenMP to one thread for ``n < SERIAL_BELOW`` unknowns.

    Uses threadpoolctl; above ``SERIAL_BELOW`` the threads are left alone.
    """
    global _controller
    if n >= SERIAL_BELOW:
        return contextlib.nullcontext()
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller.limit(limits=1)

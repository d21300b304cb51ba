"""Memory limits: the byte budget of a run and the guard every large allocation passes.

Examples
--------
>>> import femkron as fk
>>> fk.memory_limit() > 0
True
"""

from __future__ import annotations

import os

import numpy as np

from .errors import FemkronTypeError, FemkronValueError, ResourceError

__all__ = ["memory_limit", "set_memory_limit", "check_allocation", "check_peak", "format_bytes"]


_DEFAULT_LIMIT = 8 * 2**30
_limit = None


def memory_limit():
    """Bytes one materialisation (dense matrix, CSR, dense factorisation) may take.

    The default is 8 GiB; the environment variable ``FEMKRON_MEMORY_LIMIT`` (bytes, read when
    the limit is asked for) or :func:`set_memory_limit` changes it.

    Examples
    --------
    >>> import femkron as fk
    >>> fk.memory_limit() > 0
    True
    """
    if _limit is not None:
        return _limit
    env = os.environ.get("FEMKRON_MEMORY_LIMIT")
    if env is None or not env.strip():
        return _DEFAULT_LIMIT
    try:
        value = float(env)
    except ValueError:
        value = float("nan")
    if not (np.isfinite(value) and 1 <= value < 2**63):
        raise FemkronValueError(
            f"the environment variable FEMKRON_MEMORY_LIMIT must be a positive, finite number "
            f"of bytes (e.g. 8e9), got {env!r}; unset it for the default of "
            f"{format_bytes(_DEFAULT_LIMIT)}",
            reason="bad-environment",
        )
    return int(value)


def set_memory_limit(nbytes):
    """Set the byte limit of :func:`memory_limit`; ``None`` restores the default.

    Returns the previous setting: a number of bytes, or ``None`` when no limit had been set
    (the default or ``FEMKRON_MEMORY_LIMIT`` applied), so ``set_memory_limit(old)`` restores
    exactly what was there.

    Examples
    --------
    >>> import femkron as fk
    >>> old = fk.set_memory_limit(2**30)
    >>> fk.memory_limit()
    1073741824
    >>> _ = fk.set_memory_limit(old)
    """
    global _limit
    previous = _limit
    if nbytes is None:
        _limit = None
        return previous
    if isinstance(nbytes, bool) or not isinstance(nbytes, (int, float, np.integer, np.floating)):
        raise FemkronTypeError(f"nbytes must be a positive number or None, got {nbytes!r}")
    if not np.isfinite(nbytes) or nbytes <= 0:
        raise FemkronValueError(f"nbytes must be a positive number or None, got {nbytes!r}")
    _limit = int(nbytes)
    return previous


def format_bytes(nbytes):
    """Human-readable byte count: ``format_bytes(3 * 2**30) == '3.0 GiB'``."""
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{int(value)} B"
        value /= 1024
    return f"{value:.1f} TiB"  # pragma: no cover


def check_allocation(nbytes, what, alternative):
    """Refuse to build ``what`` when it would need more than :func:`memory_limit` bytes."""
    limit = memory_limit()
    if nbytes > limit:
        raise ResourceError(
            f"{what} would need about {format_bytes(nbytes)}, more than the memory limit "
            f"of {format_bytes(limit)} (femkron.set_memory_limit); {alternative}",
            nbytes=nbytes,
            limit=limit,
        )


def check_peak(parts, what, alternative):
    """Refuse a whole run whose estimated peak memory passes :func:`memory_limit`.

    Parameters
    ----------
    parts : dict
        Bytes per component held at the peak (vectors, factors, eigenvectors, LU fill, ...).
    what : str
        The run, for the message.
    alternative : str
        A cheaper way, for the message.

    Raises
    ------
    ResourceError
        With the estimate, its largest components and the limit.

    Examples
    --------
    >>> import femkron as fk
    >>> old = fk.set_memory_limit(2**30)
    >>> try:
    ...     check_peak({"vectors": 2**31, "LU": 2**30}, "a solve", "use fewer cells")
    ... except fk.ResourceError as err:
    ...     print(str(err)[:60])
    a solve would need about 3.0 GiB at its peak (vectors 2.0 Gi
    >>> _ = fk.set_memory_limit(old)
    """
    total = int(sum(parts.values()))
    limit = memory_limit()
    if total > limit:
        items = sorted(((v, k) for k, v in parts.items() if v > 0), reverse=True)
        detail = ", ".join(f"{k} {format_bytes(v)}" for v, k in items[:4])
        raise ResourceError(
            f"{what} would need about {format_bytes(total)} at its peak ({detail}), more than "
            f"the memory limit of {format_bytes(limit)} (femkron.set_memory_limit or "
            f"FEMKRON_MEMORY_LIMIT); {alternative}",
            nbytes=total,
            limit=limit,
        )

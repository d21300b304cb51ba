import os

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("OMP_NUM_THREADS", "2")

try:  # hypothesis is a test extra; the MPI tests also run where it is not installed
    from hypothesis import HealthCheck, settings
except ImportError:  # pragma: no cover
    settings = None

if settings is not None:
    # Property-based and fuzz tests: a small example count by default (fast CI), a larger one
    # with HYPOTHESIS_PROFILE=thorough.  No deadline: timings on a shared machine vary.
    _COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
    settings.register_profile("default", max_examples=25, derandomize=True, **_COMMON)
    settings.register_profile("thorough", max_examples=400, **_COMMON)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _isolated_memory_limit():
    """Each test leaves the memory limit as it found it (so that restoring a limit
    with ``set_memory_limit(old)`` in one test cannot pin it for the next)."""
    import femkron._limits

    previous = femkron._limits._limit
    yield
    femkron._limits._limit = previous


def pytest_collection_modifyitems(config, items):
    # benchmarks only run with -m benchmark (addopts deselects them by default)
    for item in items:
        if "benchmark" in item.keywords:
            item.add_marker(pytest.mark.slow)

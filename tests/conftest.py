import os

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("OMP_NUM_THREADS", "2")


def pytest_collection_modifyitems(config, items):
    # benchmarks only run with -m benchmark (addopts deselects them by default)
    for item in items:
        if "benchmark" in item.keywords:
            item.add_marker(pytest.mark.slow)

"""``python -m femkron.cli``: the ``femkron`` command without its console script."""

import sys

from .main import main

if __name__ == "__main__":  # pragma: no cover - run as a program
    sys.exit(main())

"""Shared set-up of the example scripts: where figures go and how large to run.

* ``save_figure(fig, name)``: writes ``name.png`` into the output folder: the first
  command-line argument, else the environment variable ``FEMKRON_EXAMPLE_OUT``, else
  ``femkron-examples`` in the system temporary folder.
* ``SMALL``: true when ``FEMKRON_EXAMPLE_SMALL=1`` (the test suite runs every example small).
* ``MESHES``: the repository's ``meshes/`` folder.
"""

import os
import pathlib
import sys
import tempfile


def output_folder():
    arg = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else None
    default = os.path.join(tempfile.gettempdir(), "femkron-examples")
    folder = pathlib.Path(arg or os.environ.get("FEMKRON_EXAMPLE_OUT", default))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_figure(fig, name, dpi=110):
    """Save ``fig`` as ``name.png`` in the output folder, close it and print where it went."""
    import matplotlib.pyplot as plt

    path = output_folder() / f"{name}.png"
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    print("figure:", path)
    return path


SMALL = os.environ.get("FEMKRON_EXAMPLE_SMALL") == "1"
MESHES = pathlib.Path(__file__).resolve().parent.parent / "meshes"

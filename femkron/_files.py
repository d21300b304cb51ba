"""Writing files without leaving half-written ones behind (private module).

Every file femkron writes (mesh TOML, VTK, JSON, PNG) goes to a temporary name in the target
folder first and is renamed over the target only when writing succeeded, so an interrupted or
failed run leaves no corrupt file and an existing file is replaced only on success.
"""

from __future__ import annotations

import contextlib
import os
import tempfile

from .errors import FemkronTypeError, FemkronValueError

__all__ = ["atomic_path", "check_writable"]


def check_writable(path, name="path"):
    """Check that ``path`` names a file in an existing, writable folder; return it as str."""
    if not isinstance(path, (str, os.PathLike)):
        raise FemkronTypeError(f"{name} must be a file path, got {path!r}")
    path = os.fspath(path)
    if not isinstance(path, str):
        raise FemkronTypeError(f"{name} must be a text file path, got {path!r}")
    if "\x00" in path:
        raise FemkronValueError(f"{name} must not contain a NUL character, got {path!r}")
    if not path or path.endswith(os.sep):
        raise FemkronValueError(f"{name} must name a file, got {path!r}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FemkronValueError(f"{name}: folder {folder!r} does not exist")
    if not os.access(folder, os.W_OK):
        raise FemkronValueError(f"{name}: folder {folder!r} is not writable")
    if os.path.isdir(path):
        raise FemkronValueError(f"{name}: {path!r} is a folder, not a file")
    return path


@contextlib.contextmanager
def atomic_path(path, name="path"):
    """Context manager yielding a temporary path next to ``path``; on success the temporary
    file is renamed to ``path``, on any exception it is removed.

    Examples
    --------
    >>> import os, tempfile
    >>> target = os.path.join(tempfile.mkdtemp(), "out.txt")
    >>> with atomic_path(target) as tmp:
    ...     with open(tmp, "w") as fh:
    ...         _ = fh.write("done")
    >>> open(target).read()
    'done'
    """
    path = check_writable(path, name)
    if os.path.islink(path):  # write through a link to its target, keep the link
        path = os.path.realpath(path)
    folder = os.path.dirname(os.path.abspath(path))
    base, ext = os.path.splitext(os.path.basename(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=f".part{ext}", dir=folder)
    os.close(fd)
    try:
        yield tmp
        _finish(tmp, path)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def _finish(tmp, path):
    """Give the temporary file the permissions the target would get (mkstemp makes it
    owner-only) and flush it to disk before the rename.
    """
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    with contextlib.suppress(OSError):
        os.chmod(tmp, mode)
    with contextlib.suppress(OSError):
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

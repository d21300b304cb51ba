"""Writing files without leaving half-written ones behind (private module).

Every file femkron writes (mesh TOML, VTK, JSON, PNG) goes to a temporary name in the target
folder first and is renamed over the target only when writing succeeded, so an interrupted or
failed run leaves no corrupt file and an existing file is replaced only on success.

Temporary names are short and recognisable,
``.femkron-<target>-<host>-<pid>-<random>.part<ext>`` (``target`` and ``host``: hex digits of
hashes of the target's file name and of the machine's name), so they never exceed the
file-name limit however long the target's name is.  A write that was killed leaves such a file
behind; the next write to the same target removes it once it is stale: written on this machine
by a process that no longer runs, or (written elsewhere) unchanged for a day.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import socket
import stat
import time

from .errors import FemkronTypeError, FemkronValueError

__all__ = ["atomic_path", "check_writable"]

#: Temporary files: ``.femkron-<target>-<host>-<pid>-<random>.part<ext>``.
_TEMP_NAME = re.compile(r"\.femkron-([0-9a-f]{8})-([0-9a-f]{4})-([0-9]{1,12})-[0-9a-f]{8}\.part")
#: Longest extension kept on a temporary name (keeps every temporary name under 64 bytes).
_MAX_EXT = 16
#: This machine, in temporary names: process ids are checked only for files written here.
_HOST = hashlib.sha256(socket.gethostname().encode("utf-8", "surrogatepass")).hexdigest()[:4]
#: Seconds without change after which a temporary file whose writer cannot be checked is stale.
_STALE_AFTER = 86400


def check_writable(path, name="path"):
    """Check that ``path`` can be written, by creating and removing a scratch file next to it.

    The honest test of a destination is a write: permission bits say yes to root for a
    read-only folder, and say nothing of read-only file systems or of ``/proc`` and ``/sys``.

    Parameters
    ----------
    path : str or os.PathLike
        The file to be written.
    name : str
        What ``path`` is called in error messages (an argument or option name).

    Returns
    -------
    str
        ``path`` as a string.

    Raises
    ------
    FemkronValueError
        Naming ``path`` when its folder is missing or not a folder, when it is a folder or
        another non-regular file, when an existing file cannot be opened for writing, or when
        no file can be created in its folder.
    """
    path = _check_target(path, name)
    tmp = _create_temp(path, name)
    with contextlib.suppress(OSError):
        os.remove(tmp)
    return path


def _check_target(path, name):
    """Check ``path`` without creating anything; return it as str.

    It must be a file path in an existing folder, not a folder or other non-regular file, and
    (if it exists) a file that can be opened for writing.
    """
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
        if os.path.lexists(folder):
            raise FemkronValueError(f"{name}: cannot write {path!r}: {folder!r} is not a folder")
        raise FemkronValueError(f"{name}: folder {folder!r} does not exist")
    if os.path.isdir(path):
        raise FemkronValueError(f"{name}: {path!r} is a folder, not a file")
    try:
        mode = os.stat(path).st_mode
    except OSError:  # no such file (yet), or a dangling link: the write creates it
        return path
    if not stat.S_ISREG(mode):
        raise FemkronValueError(
            f"{name}: {path!r} is not a regular file (a device, pipe or socket); "
            "femkron writes only regular files"
        )
    try:
        fd = os.open(path, os.O_WRONLY)  # no O_TRUNC: the file is left as it is
    except OSError as err:
        raise FemkronValueError(
            f"{name}: {path!r} is not writable ({err.strerror or err})"
        ) from None
    os.close(fd)
    return path


def _target_tag(path):
    """Eight hex digits naming the target ``path`` (by its file name) in temporary names."""
    base = os.path.basename(path).encode("utf-8", "surrogatepass")
    return hashlib.sha256(base).hexdigest()[:8]


def _create_temp(path, name):
    """Create an empty, owner-only temporary file next to ``path`` and return its name.

    The name is short whatever the length of ``path``'s name (it never exceeds NAME_MAX);
    failure to create it is the honest answer to "is this destination writable?".
    """
    real = os.path.realpath(path) if os.path.islink(path) else path
    folder = os.path.dirname(os.path.abspath(real))
    ext = os.path.splitext(real)[1]
    if len(ext) > _MAX_EXT or not ext[1:].isalnum():
        ext = ""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(100):
        tmp = os.path.join(
            folder,
            f".femkron-{_target_tag(real)}-{_HOST}-{os.getpid()}-{secrets.token_hex(4)}.part{ext}",
        )
        try:
            fd = os.open(tmp, flags, 0o600)
        except FileExistsError:  # pragma: no cover - 32 random bits collided
            continue
        except OSError as err:
            raise FemkronValueError(
                f"{name}: {path!r} is not writable: cannot create a file in {folder!r} "
                f"({err.strerror or err})"
            ) from None
        os.close(fd)
        return tmp
    raise FemkronValueError(  # pragma: no cover
        f"{name}: {path!r} is not writable: no free temporary name in {folder!r}"
    )


def _remove_stale_temps(path):
    """Remove the temporary files of earlier, killed writes to ``path``.

    A temporary file of this target is stale when it was written on this machine by a process
    that no longer runs; a live writer's file is never touched.  Where the writer cannot be
    checked (another machine sharing the folder, or no POSIX process ids), a day without change
    makes it stale.
    """
    folder = os.path.dirname(os.path.abspath(path))
    tag = _target_tag(path)
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for entry in names:
        match = _TEMP_NAME.match(entry)
        if match is None or match.group(1) != tag:
            continue
        tmp = os.path.join(folder, entry)
        if _is_stale(tmp, match.group(2), int(match.group(3))):
            with contextlib.suppress(OSError):
                os.remove(tmp)


def _is_stale(tmp, host, pid):
    """Whether ``tmp``, written on ``host`` by process ``pid``, is left from a dead write."""
    if host == _HOST and pid == os.getpid():
        return False
    try:
        info = os.lstat(tmp)
    except OSError:
        return False
    if not stat.S_ISREG(info.st_mode):
        return False
    if host != _HOST or os.name != "posix":  # no safe liveness check (os.kill on Windows kills)
        return time.time() - info.st_mtime > _STALE_AFTER
    return not _process_runs(pid)


def _process_runs(pid):
    """Whether a process with id ``pid`` runs on this machine (POSIX only)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OverflowError, ValueError):
        return False
    except OSError:  # EPERM: it runs, as another user
        return True
    return True


@contextlib.contextmanager
def atomic_path(path, name="path"):
    """Context manager yielding a temporary path next to ``path``, renamed to it on success.

    On success the temporary file is renamed to ``path``, on any exception it is removed.

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
    shown = path = _check_target(path, name)
    if os.path.islink(path):  # write through a link to its target, keep the link
        path = os.path.realpath(path)
    _remove_stale_temps(path)
    tmp = _create_temp(shown, name)
    try:
        yield tmp
        _finish(tmp, path)
        try:
            os.replace(tmp, path)
        except OSError as err:
            raise FemkronValueError(
                f"{name}: cannot write {shown!r} ({err.strerror or err})"
            ) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def _finish(tmp, path):
    """Give the temporary file the target's permissions and flush it to disk before the rename.

    The permissions are those the target would get (the temporary file is owner-only).
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


def read_text_file(path, error, what):
    """The UTF-8 text of the file ``path``; unreadable files raise ``error`` naming ``what``.

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "a.toml")
    >>> with open(p, "w") as fh:
    ...     _ = fh.write("x = 1")
    >>> read_text_file(p, ValueError, "mesh file")
    'x = 1'
    """
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder, not a {what}") from None
    except OSError as err:
        raise error(f"{path}: cannot read the {what} ({err.strerror})") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise error(f"{path}: not a UTF-8 text (TOML) file") from None

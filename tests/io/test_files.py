"""Every writer (mesh TOML, VTK, the command's JSON): unwritable destinations, long names and
the temporary files of killed writes.

The writers share ``femkron._files``; each case is checked through the public writers.
"""

import os
import stat
import subprocess
import sys
import time

import numpy as np
import pytest

import femkron as fk
from femkron import _files
from femkron.cli import main

NAME_MAX = 255


def _save_mesh(path):
    fk.save_mesh(fk.Mesh1D.uniform(0, 1, 2), path)


def _write_vtk(path):
    pytest.importorskip("meshio")
    V = fk.TensorSpace.box([(0, 1)], cells=2, order=1)
    fk.write_vtk(path, V, {"u": np.zeros(V.ndofs)})


WRITERS = {"save_mesh": (_save_mesh, ".toml"), "write_vtk": (_write_vtk, ".vtu")}


@pytest.fixture(params=sorted(WRITERS))
def writer(request):
    """``(write, extension)``: a public writer taking only the path, and its file extension."""
    return WRITERS[request.param]


def _direct_write_works(path):
    """Whether this process can really create ``path`` (the test of an honest check)."""
    try:
        with open(path, "x"):
            pass
    except OSError:
        return False
    os.remove(path)
    return True


# ---- unwritable destinations -----------------------------------------------------------
def test_parent_that_is_a_file_is_refused_naming_the_path(tmp_path, writer):
    write, ext = writer
    (tmp_path / "plain").write_text("a file")
    target = tmp_path / "plain" / f"out{ext}"
    with pytest.raises(fk.FemkronValueError, match="is not a folder") as info:
        write(target)
    assert str(target) in str(info.value)
    assert os.listdir(tmp_path) == ["plain"]


@pytest.mark.parametrize("folder", ["/proc", "/sys"])
def test_pseudo_file_systems_are_refused_naming_the_path(writer, folder):
    """os.access says yes to root for /sys; only a write tells."""
    if not os.path.isdir(folder):
        pytest.skip(f"no {folder} here")
    write, ext = writer
    target = os.path.join(folder, f"femkron-test{ext}")
    if _direct_write_works(target):
        pytest.skip(f"{folder} is writable here")
    with pytest.raises(fk.FemkronValueError, match="not writable") as info:
        write(target)
    assert repr(target) in str(info.value)
    assert not os.path.exists(target)


def test_read_only_folder_is_refused_unless_a_write_really_works(tmp_path, writer):
    """Mode 0o555: refused for a normal user; root really can write there, and does."""
    write, ext = writer
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    target = ro / f"out{ext}"
    try:
        if _direct_write_works(target):  # root: the write is honest
            write(target)
            assert target.exists()
            assert os.listdir(ro) == [target.name]
        else:
            with pytest.raises(fk.FemkronValueError, match="not writable") as info:
                write(target)
            assert str(target) in str(info.value)
            assert os.listdir(ro) == []
    finally:
        ro.chmod(0o755)


def test_read_only_file_is_refused_unless_it_can_be_opened_for_writing(tmp_path, writer):
    write, ext = writer
    target = tmp_path / f"out{ext}"
    target.write_text("old contents")
    target.chmod(0o444)
    try:
        fd = os.open(target, os.O_WRONLY)
    except OSError:
        with pytest.raises(fk.FemkronValueError, match="not writable") as info:
            write(target)
        assert str(target) in str(info.value)
        assert target.read_text() == "old contents"
    else:  # root
        os.close(fd)
        write(target)
        assert target.read_text() != "old contents"
    assert os.listdir(tmp_path) == [target.name]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_non_regular_file_is_never_replaced(tmp_path, writer):
    write, ext = writer
    target = tmp_path / f"pipe{ext}"
    os.mkfifo(target)
    with pytest.raises(fk.FemkronValueError, match="not a regular file") as info:
        write(target)
    assert str(target) in str(info.value)
    assert stat.S_ISFIFO(os.stat(target).st_mode)
    assert os.listdir(tmp_path) == [target.name]


def test_failed_rename_is_a_clear_error_and_leaves_nothing(tmp_path, writer, monkeypatch):
    write, ext = writer
    target = tmp_path / f"out{ext}"

    def refuse(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(_files.os, "replace", refuse)
    with pytest.raises(fk.FemkronValueError, match="cannot write") as info:
        write(target)
    assert str(target) in str(info.value) and "Permission denied" in str(info.value)
    assert os.listdir(tmp_path) == []


def test_check_writable_probes_with_a_real_file(tmp_path):
    target = tmp_path / "r.json"
    assert fk_check(target) == str(target)
    assert os.listdir(tmp_path) == []  # the probe is removed
    with pytest.raises(fk.FemkronValueError, match="not writable") as info:
        fk_check(os.path.join("/proc", "r.json") if os.path.isdir("/proc") else "/nonexistent/x")
    assert "r.json" in str(info.value) or "does not exist" in str(info.value)


def fk_check(path):
    """``femkron._files.check_writable`` as the command line and bench call it."""
    return _files.check_writable(path, "--json")


def test_command_line_reports_an_unwritable_output_in_one_line(capsys):
    if not os.path.isdir("/proc"):
        pytest.skip("no /proc here")
    code = main(["solve", "--dim", "1", "--cells", "4", "--json", "/proc/r.json"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and "/proc/r.json" in err[0] and "not writable" in err[0]


# ---- long names ------------------------------------------------------------------------
@pytest.mark.parametrize("length", [249, NAME_MAX])
def test_longest_legal_names_are_written(tmp_path, writer, length):
    write, ext = writer
    target = tmp_path / ("n" * (length - len(ext)) + ext)
    assert len(target.name) == length
    write(target)
    assert target.stat().st_size > 0
    assert os.listdir(tmp_path) == [target.name]


def test_temporary_names_stay_short_whatever_the_target(tmp_path):
    for name in ["a", "n" * 250 + ".toml", "x." + "e" * 200, "über.vtu"]:
        tmp = _files._create_temp(str(tmp_path / name), "path")
        assert len(os.path.basename(tmp).encode()) < 64
        assert _files._TEMP_NAME.match(os.path.basename(tmp))
        os.remove(tmp)


def test_command_line_writes_a_249_character_json_name(tmp_path, capsys):
    target = tmp_path / ("r" * 244 + ".json")
    assert main(["solve", "--dim", "1", "--cells", "4", "--json", str(target)]) == 0
    assert target.read_text().startswith("{")
    assert os.listdir(tmp_path) == [target.name]


# ---- temporary files of killed writes ---------------------------------------------------
KILLED_WRITE = """
import os, sys
from femkron._files import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    with open(tmp, "w") as fh:
        fh.write("partial")
    os._exit(9)  # killed mid-write: no cleanup runs
"""


def _killed_write(target):
    """Run a write to ``target`` in another process that dies half-way; return its temp file."""
    before = set(os.listdir(os.path.dirname(target)))
    done = subprocess.run([sys.executable, "-c", KILLED_WRITE, str(target)], check=False)
    assert done.returncode == 9
    (left,) = set(os.listdir(os.path.dirname(target))) - before
    return left


def _fake_temp(target, pid, host=None, age=0.0):
    """A temporary file of ``target`` named as if written by ``pid`` on ``host``."""
    name = (
        f".femkron-{_files._target_tag(str(target))}-{host or _files._HOST}-{pid}-"
        f"0123abcd.part{os.path.splitext(str(target))[1]}"
    )
    path = os.path.join(os.path.dirname(target), name)
    with open(path, "w") as fh:
        fh.write("partial")
    if age:
        os.utime(path, (time.time() - age, time.time() - age))
    return name


def test_temporary_file_of_a_killed_write_is_recognisable_and_removed_next_time(tmp_path, writer):
    write, ext = writer
    target = tmp_path / f"out{ext}"
    left = _killed_write(target)
    assert _files._TEMP_NAME.match(left) and ".part" in left
    assert not target.exists()  # the killed write never touched the target
    write(target)
    assert os.listdir(tmp_path) == [target.name]


def test_only_stale_temporaries_of_the_same_target_are_removed(tmp_path):
    target = tmp_path / "out.toml"
    other = tmp_path / "other.toml"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = _killed_write(target)
        live = _fake_temp(target, sleeper.pid)  # a writer that still runs
        mine = _fake_temp(target, os.getpid())  # this process: never stale
        elsewhere_new = _fake_temp(target, 1, host="ffff" if _files._HOST != "ffff" else "eeee")
        elsewhere_old = _fake_temp(target, 2, host="ffff" if _files._HOST != "ffff" else "eeee",
                                   age=2 * 86400)  # fmt: skip
        other_dead = _killed_write(other)
        _save_mesh(target)
        left = set(os.listdir(tmp_path))
        assert dead not in left and elsewhere_old not in left
        assert {live, mine, elsewhere_new, other_dead, target.name} == left
    finally:
        sleeper.kill()
        sleeper.wait()

"""fetch as a user sees it: a second concurrent run, a read-only --to (issue 16)."""

from __future__ import annotations

import fcntl
import os
import select
import subprocess
import sys
import time

from rebuildx.stagex.tree import load_tree

DROP_DAC = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search",
            "--inh-caps", "-dac_override,-dac_read_search"]  # root that file modes apply to


def rebuildx(*args: str, prefix: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*(prefix or []), sys.executable, "-m", "rebuildx", *args], capture_output=True,
                          text=True, timeout=300)


def test_second_fetch_says_who_holds_the_lock_and_waits(fixture_tree):
    root = fixture_tree.root
    sha = load_tree(root).packages["core-hello"].sources[0].hash
    lock_dir = root / ".rebuildx/tmp/fetch"
    lock_dir.mkdir(parents=True)
    fd = os.open(lock_dir / f"{sha}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, f"{os.getpid()}\n".encode())
    p = subprocess.Popen([sys.executable, "-m", "rebuildx", "fetch", "hello", "--only", "--tree", str(root)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line, deadline = "", time.monotonic() + 60
        while "waiting" not in line and time.monotonic() < deadline:
            if select.select([p.stderr], [], [], 1)[0]:
                line = p.stderr.readline()  # type: ignore[union-attr]
        assert f"fetch/core/hello/hello-1.2.3.tar.gz: another rebuildx (pid {os.getpid()}" in line
        assert "is fetching it in this workspace; waiting for it" in line
        assert p.poll() is None  # it waits
    finally:
        os.close(fd)  # releases the lock
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert (root / "fetch/core/hello/hello-1.2.3.tar.gz").is_file()


def test_fetch_to_a_read_only_directory_is_one_line(fixture_tree, tmp_path):
    fixture_tree.prefill_fetch()
    dest = tmp_path / "carry"
    dest.mkdir()
    dest.chmod(0o555)
    done = rebuildx("fetch", "hello", "--only", "--tree", str(fixture_tree.root), "--to", str(dest), prefix=DROP_DAC)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"rebuildx: error: --to {dest}: cannot write hello-1.2.3.tar.gz there: Permission denied; "
        f"give a directory you can write to")

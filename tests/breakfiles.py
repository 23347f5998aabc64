"""Ways a package file stops being a readable file, made for real (the tree-reading tests, in
process and through the CLI)."""

from __future__ import annotations

import os
import socket
from pathlib import Path


def fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def loop(path: Path) -> None:
    """`path` a symlink into a loop of two."""
    path.unlink()
    os.symlink(path.name + ".b", path.with_name(path.name + ".a"))
    os.symlink(path.name + ".a", path.with_name(path.name + ".b"))
    os.symlink(path.name + ".a", path)


def folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


def unix_socket(path: Path) -> None:
    path.unlink()
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.close()


def unreadable(path: Path) -> None:
    path.chmod(0)

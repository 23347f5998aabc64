"""A mirror that sends far more than the file: the download stops at the source's size when the
tree gives it, else at a cap, and its memory stays flat (issue 16, "Unbounded")."""

from __future__ import annotations

import hashlib

import pytest

from hostile import MIB, Flood, measured
from rebuildx.fetch import FetchOptions, Limits, Outcome, fetch_sources
from rebuildx.stagex.tree import load_tree
from rebuildx.workspace import Workspace
from treegen import write_package

SOURCE = b"the real source\n" * 6400  # 100 KiB


def tree_with_source(root, url: str, size: int | None = None):
    size_line = f"size = {size}\n" if size is not None else ""
    write_package(root, "core", "big", f'''[package]
name = "big"
version = "1.0"

[sources.big]
hash = "{hashlib.sha256(SOURCE).hexdigest()}"
file = "big-1.0.tar.gz"
mirrors = ["{url}/{{file}}"]
{size_line}''', "FROM scratch\n")
    return load_tree(root)


@pytest.fixture
def flood():
    servers: list[Flood] = []

    def start(total: int, length: str | int = "absent") -> Flood:
        servers.append(Flood(total, length))
        return servers[-1]
    yield start
    for s in servers:
        s.close()


def fetch(tree, limits: Limits | None = None):
    report = fetch_sources(Workspace(tree.root), tree.packages.values(), FetchOptions(limits=limits or Limits()))
    (result,) = report.results
    return result


def test_known_size_stops_the_download_there(tmp_path, flood):
    server = flood(2 << 30)
    result = fetch(tree_with_source(tmp_path, server.url, size=len(SOURCE)))
    assert result.outcome is Outcome.FAILED
    assert f"sent more than the {len(SOURCE)} bytes expected; stopped" in result.attempts[-1].answer
    assert server.sent < 64 * MIB  # what sat in socket buffers, not gigabytes
    assert not list((tmp_path / ".rebuildx/tmp/fetch").glob("*partial")) or all(
        p.stat().st_size == 0 for p in (tmp_path / ".rebuildx/tmp/fetch").glob("*partial"))


def test_announced_oversize_is_refused_before_the_body(tmp_path, flood):
    server = flood(2 << 30, length="honest")
    result = fetch(tree_with_source(tmp_path, server.url, size=len(SOURCE)))
    assert result.outcome is Outcome.FAILED
    assert f"announces {2 << 30} bytes, more than the {len(SOURCE)} expected; refused" in result.attempts[-1].answer


def test_unknown_size_stops_at_the_cap(tmp_path, flood):
    server = flood(64 * MIB)
    result = fetch(tree_with_source(tmp_path, server.url), Limits(max_source_bytes=4 * MIB))
    assert result.outcome is Outcome.FAILED
    assert f"sent more than the {4 * MIB} bytes expected; stopped" in result.attempts[-1].answer
    assert not (tmp_path / "fetch/core/big/big-1.0.tar.gz").exists()


def test_size_in_package_toml_must_be_a_number(tmp_path):
    write_package(tmp_path, "core", "x", '[package]\nname = "x"\n[sources.x]\nhash = "' + "0" * 64
                  + '"\nmirrors = ["http://127.0.0.1:9/x"]\nsize = "big"\n', "FROM scratch\n")
    with pytest.raises(Exception, match=r"\[sources.x\] size: expected a number of bytes, got 'big'"):
        load_tree(tmp_path)


def test_hostile_2gb_mirror_fetch_memory_stays_small(tmp_path, flood, record_property):
    """The CLI against a mirror sending 2 GB for a 100 KiB source the tree gives no size for:
    stopped at the default cap (1 GiB written, then dropped), peak RSS well under 200 MB."""
    server = flood(2 << 30)
    tree_with_source(tmp_path, server.url)
    run = measured("fetch", "--tree", str(tmp_path))
    record_property("fetch_max_rss_mb", run.max_rss_mb)
    print(f"fetch from a hostile 2 GB mirror: peak RSS {run.max_rss_mb:.1f} MB, server sent {server.sent} bytes")
    assert run.returncode == 1, run.stderr
    assert f"sent more than the {Limits().max_source_bytes} bytes expected; stopped" in run.stdout + run.stderr
    assert run.max_rss_mb < 200
    assert not (tmp_path / "fetch/core/big/big-1.0.tar.gz").exists()


def test_cli_cap_is_an_option(tmp_path, flood):
    server = flood(64 * MIB)
    tree_with_source(tmp_path, server.url)
    run = measured("fetch", "--tree", str(tmp_path), "--max-source-bytes", str(2 * MIB))
    assert run.returncode == 1
    assert f"sent more than the {2 * MIB} bytes expected; stopped" in run.stdout + run.stderr


def test_default_cap_is_the_documented_one():
    from rebuildx.cli.fetch import MAX_SOURCE_BYTES
    from rebuildx.fetch.http import MAX_SOURCE_BYTES as LIBRARY_DEFAULT

    assert MAX_SOURCE_BYTES == LIBRARY_DEFAULT == Limits().max_source_bytes == 1 << 30

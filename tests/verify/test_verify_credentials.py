"""verify with credentials in its URLs: used, and in no output, report, page or support bundle
(tests/hardening/test_credentials.py has the pure cases)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from credentials import SECRET, files_under, nowhere, url
from releasegen import git
from treegen import sha256, tarball


def rebuildx(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rebuildx", *args], capture_output=True, text=True, timeout=900)


@pytest.mark.engine
def test_verify_report_page_and_bundle(upstream, failing, tmp_path):
    """A verify that mismatches (core-hello changed, as in test_verify.py): --mirror fails (the
    packages' own mirror delivers), --published is read with its credentials, --explain-from is
    a registry prefix written with credentials (refused: each mismatch's explanation says so).
    The secret is on no output and in no file rebuildx wrote: JSON report, HTML page, bundle."""
    root = upstream.root
    data = tarball("hello-1.2.3", {"hello.sh": "#!/bin/sh\necho changed\n"})
    old = sha256(upstream.fetch_files["fetch/core/hello/hello-1.2.3.tar.gz"])
    git(root, "checkout", "-q", "release/2099.01.0")
    toml = root / "packages/core/hello/package.toml"
    toml.write_text(toml.read_text().replace(old, sha256(data)))
    git(root, "commit", "-qam", "change hello")
    git(root, "branch", "-q", "-m", "release/2099.01.0", "release/2099.01.1")
    git(root, "checkout", "-q", "main")
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "hello-1.2.3.tar.gz").write_bytes(data)
    failing.absent = ("/pub/",)
    failing.files.update({f"/pub/{p.name}": p.read_bytes() for p in (tmp_path / "published/digests").glob("*.txt")})
    done = rebuildx("verify", "--release", "2099.01.1", "--repo", str(root), "--tree", str(tmp_path / "stagex"),
                    "core-hello", "--sources", str(sources), "--mirror", url(failing, "m", "/flat"),
                    "--published", url(failing, "p", "/pub"),
                    "--explain-from", f"user:{SECRET}@{failing.host}/stagex")
    assert done.returncode == 3, done.stderr[-3000:]
    state = tmp_path / "stagex/.rebuildx"
    written = files_under(state)
    report, bundle = state / "reports/verify-2099.01.1.json", state / "support-bundle.md"
    assert {report, report.with_suffix(".html"), bundle} <= set(written)
    nowhere(done.stdout, done.stderr, *written.values())
    why = json.loads(written[report])["explanations"]["core-hello"]
    assert why["source"].startswith(f"user:***@{failing.host}/stagex/core-hello@sha256:"), why
    assert f"image reference 'user:***@{failing.host}/stagex/core-hello@sha256:" in why["error"], why
    assert f"--mirror http://m:***@{failing.host}/flat" in written[bundle]
    assert f"--published http://p:***@{failing.host}/pub" in written[bundle]
    assert {f"m:{SECRET}", f"p:{SECRET}"} <= set(failing.users)  # the credentials were used

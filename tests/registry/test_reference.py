"""Image references, read as Docker reads them."""

from __future__ import annotations

import pytest

from rebuildx.errors import RegistryError
from rebuildx.registry import parse_reference

D = "sha256:" + "ab" * 32


@pytest.mark.parametrize("text, host, repo, tag, digest, base", [
    (f"docker.io/stagex/core-bash@{D}", "docker.io", "stagex/core-bash", None, D,
     "https://registry-1.docker.io/v2/stagex/core-bash"),
    ("stagex/core-bash:5.2", "docker.io", "stagex/core-bash", "5.2", None, "https://registry-1.docker.io/v2/stagex/core-bash"),
    ("busybox", "docker.io", "library/busybox", None, None, "https://registry-1.docker.io/v2/library/busybox"),
    ("quay.io/org/img:v1", "quay.io", "org/img", "v1", None, "https://quay.io/v2/org/img"),
    (f"127.0.0.1:5000/stagex/x:t@{D}", "127.0.0.1:5000", "stagex/x", "t", D, "http://127.0.0.1:5000/v2/stagex/x"),
    ("localhost/a/b", "localhost", "a/b", None, None, "http://localhost/v2/a/b"),
    ("[::1]:5000/a", "[::1]:5000", "a", None, None, "http://[::1]:5000/v2/a"),
    ("registry.example:443/deep/path/name:1.0", "registry.example:443", "deep/path/name", "1.0", None,
     "https://registry.example:443/v2/deep/path/name"),
])
def test_forms(text, host, repo, tag, digest, base):
    ref = parse_reference(text)
    assert (ref.host, ref.repository, ref.tag, ref.digest, ref.base_url) == (host, repo, tag, digest, base)
    assert ref.reference == (digest or tag or "latest")


@pytest.mark.parametrize("text", ["", "UPPER/case", "a/b@sha256:short", "a/b@md5:" + "0" * 32, "a/b:bad tag",
                                  "host:5000/", "a//b", f"a/b@{D}x"])
def test_malformed_references_are_named(text):
    with pytest.raises(RegistryError, match="image reference"):
        parse_reference(text)

"""Property tests (Hypothesis): every reader of untrusted bytes gives a result or a
RebuildxError (one line for the user), never another exception (issue 16, "Acceptance").

Readers covered: package.toml (through `load_tree`, as bytes and as fields of a valid file),
Containerfile dependency lines, digest files (parsed and read from a `--published` directory),
out/ entries' index.json and the documents it leads to (the one entry-digest reader, the layout
check, explain's layout reader and resolver), and signature files and their payloads (whose
readers raise their own FormatError/PayloadError, which `trust.signatures.check` turns into an
INVALID verdict: for them that error, or a result, is the property).
"""

from __future__ import annotations

import json
import tempfile
import zlib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rebuildx.compare.digestfiles import parse_digest_file
from rebuildx.compare.published import PublishedSource
from rebuildx.errors import RebuildxError
from rebuildx.explain.limits import Limits
from rebuildx.explain.run import resolve
from rebuildx.explain.sources import LayoutSource
from rebuildx.oci.digest import Semantics, entry_digest
from rebuildx.oci.layout import check_layout
from rebuildx.stagex.tree import containerfile_deps, load_tree
from rebuildx.trust.signatures.packets import FormatError, read_message
from rebuildx.trust.signatures.payload import PayloadError, parse_claim

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HEX = "0123456789abcdef"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12)
# Documents shaped like OCI's, with any value in any field: what a careless tool or a hostile
# image writes.
digests = st.one_of(st.text(max_size=80), st.just("sha256:" + "0" * 64),
                    st.text(HEX, min_size=64, max_size=64).map(lambda h: "sha256:" + h), json_values)
descriptor = st.fixed_dictionaries({"digest": digests}, optional={
    "mediaType": st.sampled_from(["application/vnd.oci.image.index.v1+json",
                                  "application/vnd.oci.image.manifest.v1+json", "x"]) | json_values,
    "size": st.integers(-5, 1 << 40) | json_values})
index_docs = st.one_of(json_values, st.fixed_dictionaries({"manifests": st.lists(descriptor, max_size=3) | json_values}))
toml_text = st.text(st.characters(codec="utf-8"), max_size=40) | st.sampled_from(
    ["../x", "/etc/passwd", "a/b", "..", ".", "", "{version}", "{file}", "{nope}", "{0}", "{", "x\\y", "a\nb"])


def readable(call, *args: object, **kw: object) -> object:
    """The call's result, or None for a RebuildxError: anything else fails the property."""
    try:
        return call(*args, **kw)
    except RebuildxError as e:
        assert str(e) and "\n" not in str(e).strip(), f"not one line: {e!r}"
        return None


def write_tree(root: Path, toml: bytes, containerfile: bytes = b"FROM scratch\n") -> None:
    directory = root / "packages" / "core" / "x"
    directory.mkdir(parents=True)
    (directory / "package.toml").write_bytes(toml)
    (directory / "Containerfile").write_bytes(containerfile)


@FAST
@given(st.binary(max_size=300))
def test_package_toml_bytes(data):
    with tempfile.TemporaryDirectory() as tmp:
        write_tree(Path(tmp), data)
        readable(lambda: load_tree(tmp))


@FAST
@given(name=st.just("x") | toml_text, version=toml_text, file=toml_text, fmt=toml_text, mirror=toml_text,
       hash_=st.text(HEX, min_size=64, max_size=64) | toml_text, mirror_ok=st.booleans(), size=st.integers(-3, 1 << 70) | st.just(None))
def test_package_toml_fields(name, version, file, fmt, mirror, hash_, mirror_ok, size):
    """A well-formed file whose values are anything: templates, paths, sizes."""
    toml = (f'[package]\nname = {json.dumps(name)}\nversion = {json.dumps(version)}\n'
            f'[sources.s]\nhash = {json.dumps(hash_)}\nfile = {json.dumps(file)}\nformat = {json.dumps(fmt)}\n'
            f'mirrors = [{json.dumps("http://m/{file}" if mirror_ok else mirror)}]\n' + (f"size = {size}\n" if size is not None else ""))
    with tempfile.TemporaryDirectory() as tmp:
        write_tree(Path(tmp), toml.encode("utf-8", "surrogatepass"))
        tree = readable(lambda: load_tree(tmp))
        if tree is not None:  # what was accepted is usable: every source file stays in fetch/
            for package in tree.packages.values():  # type: ignore[attr-defined]
                for f in readable(package.source_files) or []:
                    assert "/" not in f and f not in ("", ".", "..")


@FAST
@given(st.lists(st.text(max_size=60), max_size=20))
def test_containerfile_dep_lines(lines):
    deps = readable(lambda: containerfile_deps(lines))
    if deps is not None:
        assert all(isinstance(d, str) and isinstance(n, int) for d, n in deps)  # type: ignore[attr-defined]


@FAST
@given(st.binary(max_size=300))
def test_containerfile_bytes_in_a_tree(data):
    with tempfile.TemporaryDirectory() as tmp:
        write_tree(Path(tmp), b'[package]\nname = "x"\n', data)
        readable(lambda: load_tree(tmp))


@FAST
@given(st.text(max_size=300) | st.lists(st.text(HEX, min_size=64, max_size=64).map(lambda h: h + " core-x"))
       .map("\n".join))
def test_digest_file_text(text):
    parsed = readable(lambda: parse_digest_file(text, "digests/core.txt"))
    if parsed is not None:
        assert all(len(d) == 64 for d in parsed.values())  # type: ignore[attr-defined]


@FAST
@given(st.binary(max_size=300))
def test_published_directory_bytes(data):
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "core.txt").write_bytes(data)
        readable(lambda: PublishedSource(tmp).load(Path(tmp), ["core"]))


def write_entry(root: Path, index: bytes, blob: bytes) -> Path:
    """An out/ entry with `index` as index.json, and `blob` stored under every digest it names
    (and under the all-zero one), so the readers get past 'missing' into the documents."""
    layout = root / "out" / "core-x"
    (layout / "blobs" / "sha256").mkdir(parents=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (layout / "index.json").write_bytes(index)
    for h in {"0" * 64, *(w[7:71] for w in index.decode("latin-1").split('"') if w.startswith("sha256:"))}:
        if len(h) == 64 and all(c in HEX for c in h):
            (layout / "blobs" / "sha256" / h).write_bytes(blob)
    return layout


def read_entry(layout: Path) -> None:
    for semantics in Semantics:
        readable(entry_digest, layout, semantics)
        readable(entry_digest, layout, semantics, check=True)
    readable(lambda: check_layout(layout))
    readable(lambda: LayoutSource(layout).roots())
    readable(lambda: resolve(LayoutSource(layout), None, Limits()))  # explain: index -> manifest -> config


@FAST
@given(st.binary(max_size=200), st.binary(max_size=200))
def test_index_json_bytes(index, blob):
    with tempfile.TemporaryDirectory() as tmp:
        read_entry(write_entry(Path(tmp), index, blob))


@FAST
@given(index_docs, index_docs)
def test_index_and_manifest_documents(index, nested):
    with tempfile.TemporaryDirectory() as tmp:
        read_entry(write_entry(Path(tmp), json.dumps(index).encode(), json.dumps(nested).encode()))


def packet(tag: int, body: bytes) -> bytes:
    """An OpenPGP new-format packet header (RFC 4880 4.2.2) around `body`."""
    n = len(body)
    length = bytes([n]) if n < 192 else bytes([((n - 192) >> 8) + 192, (n - 192) & 0xFF]) if n < 8384 \
        else b"\xff" + n.to_bytes(4, "big")
    return bytes([0xC0 | tag]) + length + body


packets = st.lists(st.tuples(st.sampled_from([2, 4, 8, 11, 1, 63]), st.binary(max_size=60)), max_size=4).map(
    lambda ps: b"".join(packet(t, b) for t, b in ps))


@FAST
@given(st.binary(max_size=300) | packets | packets.map(lambda b: packet(8, b"\x01" + zlib.compress(b)[2:-4])))
def test_signature_file_bytes(data):
    try:
        read_message(data)
    except FormatError as e:
        assert str(e)


claims = st.fixed_dictionaries({"critical": st.fixed_dictionaries({}, optional={
    "type": st.sampled_from(["atomic container signature", "pgp container image signature"]) | json_values,
    "identity": st.fixed_dictionaries({}, optional={"docker-reference": st.text(max_size=40) | json_values}),
    "image": st.fixed_dictionaries({}, optional={"docker-manifest-digest": digests})}) | json_values})


@FAST
@given(st.binary(max_size=300) | claims.map(lambda c: json.dumps(c).encode())
       | claims.map(lambda c: json.dumps([c]).encode()))
def test_signature_payload_bytes(data):
    try:
        parse_claim(data)
    except PayloadError as e:
        assert str(e)

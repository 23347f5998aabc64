"""A registry on 127.0.0.1 answering exactly what each test scripts: every bad answer a real
registry, proxy or token service can give is one RegistryError line naming the image."""

from __future__ import annotations

import hashlib
import json

import pytest

from rebuildx.errors import RegistryError
from rebuildx.registry import RegistryClient, parse_reference, pull_layout
from treegen import LoopbackServer, QuietHandler

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"


class ScriptedRegistry(LoopbackServer):
    """path -> (status, headers, body); a body of None cuts the connection after half of
    `cut` bytes promised in Content-Length."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], bytes | None]] = {}
        self.cut = 0
        reg = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?")[0]
                status, headers, body = reg.routes.get(path, (404, {}, b'{"errors":[{"code":"NOT_FOUND"}]}'))
                if body is None:
                    self.send_response(status)
                    self.send_header("Content-Length", str(reg.cut))
                    self.end_headers()
                    self.wfile.write(b"x" * (reg.cut // 2))
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.reply(status, body, headers)

        self.serve(Handler)

    def manifest(self, body: bytes, media: str = MANIFEST, repo: str = "stagex/x") -> str:
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        self.routes[f"/v2/{repo}/manifests/{digest}"] = (200, {"Content-Type": media}, body)
        return digest

    def blob(self, body: bytes, repo: str = "stagex/x") -> dict:
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        self.routes[f"/v2/{repo}/blobs/{digest}"] = (200, {}, body)
        return {"mediaType": "application/octet-stream", "digest": digest, "size": len(body)}

    def ref(self, digest: str, repo: str = "stagex/x") -> str:
        return f"{self.host}/{repo}@{digest}"


@pytest.fixture
def reg():
    r = ScriptedRegistry()
    yield r
    r.close()


def pull(reg: ScriptedRegistry, digest: str, tmp_path, platform: str | None = None) -> str:
    return pull_layout(reg.ref(digest), tmp_path / "dest", platform)


def image(reg: ScriptedRegistry, **changes) -> bytes:
    doc = {"schemaVersion": 2, "mediaType": MANIFEST, "config": reg.blob(b"{}"), "layers": [reg.blob(b"layer")]}
    doc.update(changes)
    return json.dumps(doc).encode()


def test_a_scripted_image_pulls(reg, tmp_path):
    digest = reg.manifest(image(reg))
    assert pull(reg, digest, tmp_path) == digest


@pytest.mark.parametrize("body, message", [
    (b"not json", r"manifest sha256:[0-9a-f]{64}: not JSON"),
    (b"[1, 2]", r"manifest sha256:[0-9a-f]{64}: not a JSON object"),
    (b'{"mediaType": "text/plain"}', r"manifest sha256:[0-9a-f]{64} has media type 'text/plain', not an OCI"),
])
def test_manifests_that_are_not_manifests(reg, tmp_path, body, message):
    digest = reg.manifest(body, media="text/plain")
    with pytest.raises(RegistryError, match=message):
        pull(reg, digest, tmp_path)
    assert not (tmp_path / "dest").exists()


def test_an_oversized_manifest_is_refused_unread(reg, tmp_path):
    digest = reg.manifest(b" " * ((4 << 20) + 1))
    with pytest.raises(RegistryError, match=r"manifest sha256:[0-9a-f]{64}: over 4194304 bytes; refused"):
        pull(reg, digest, tmp_path)


@pytest.mark.parametrize("changes, message", [
    ({"config": "nope"}, r"manifest sha256:[0-9a-f]{64} has no config descriptor"),
    ({"layers": {"digest": "x"}}, r"manifest field 'layers' is not a list of descriptors"),
    ({"layers": [{"digest": "sha256:" + "a" * 64}]}, r"blob sha256:a{64}: descriptor without a valid size"),
    ({"layers": [{"digest": "sha256:" + "a" * 64, "size": -1}]}, r"descriptor without a valid size"),
])
def test_manifests_with_bad_descriptors(reg, tmp_path, changes, message):
    digest = reg.manifest(image(reg, **changes))
    with pytest.raises(RegistryError, match=message):
        pull(reg, digest, tmp_path)


def test_an_index_entry_of_the_wrong_size_is_refused(reg, tmp_path):
    child = image(reg)
    child_digest = reg.manifest(child)
    index = {"schemaVersion": 2, "mediaType": INDEX, "manifests": [
        {"mediaType": MANIFEST, "digest": child_digest, "size": len(child) + 1,
         "platform": {"os": "linux", "architecture": "amd64"}}]}
    digest = reg.manifest(json.dumps(index).encode(), INDEX)
    message = rf"manifest {child_digest} has {len(child)} bytes, its descriptor says {len(child) + 1}; refused"
    with pytest.raises(RegistryError, match=message):
        pull(reg, digest, tmp_path)
    with pytest.raises(RegistryError, match=message):
        pull(reg, digest, tmp_path, "linux/amd64")


def test_a_server_error_names_status_and_detail(reg, tmp_path):
    digest = "sha256:" + "b" * 64
    reg.routes[f"/v2/stagex/x/manifests/{digest}"] = (500, {}, b"backend\nexploded")
    with pytest.raises(RegistryError, match=rf"stagex/x@{digest}: http://.*/manifests/{digest}: HTTP 500 backend exploded$"):
        pull(reg, digest, tmp_path)
    reg.routes[f"/v2/stagex/x/manifests/{digest}"] = (503, {}, b"")
    with pytest.raises(RegistryError, match=r"HTTP 503$"):
        pull(reg, digest, tmp_path)


def test_a_blob_transfer_that_breaks_off(reg, tmp_path):
    layer = reg.blob(b"y" * 100_000)
    reg.routes[f"/v2/stagex/x/blobs/{layer['digest']}"] = (200, {}, None)
    reg.cut = 100_000
    digest = reg.manifest(image(reg, layers=[layer]))
    with pytest.raises(RegistryError, match=r"the blob transfer broke off: RemoteProtocolError"):
        pull(reg, digest, tmp_path)
    assert not (tmp_path / "dest").exists()
    assert [p.name for p in tmp_path.iterdir()] == []


def challenge(reg: ScriptedRegistry, value: str, digest: str) -> None:
    reg.routes[f"/v2/stagex/x/manifests/{digest}"] = (401, {"WWW-Authenticate": value}, b"{}")


@pytest.mark.parametrize("value, message", [
    ('Basic realm="registry"', r"the registry wants Basic authentication; rebuildx pulls anonymously"),
    ("", r"the registry wants unknown authentication"),
    ('Bearer service="x",scope="y"', r"a Bearer challenge without a realm: 'Bearer service=\"x\",scope=\"y\"'"),
])
def test_authentication_rebuildx_cannot_do(reg, value, message):
    digest = "sha256:" + "c" * 64
    challenge(reg, value, digest)
    with RegistryClient() as client, pytest.raises(RegistryError, match=message):
        client.get_manifest(parse_reference(reg.ref(digest)))


@pytest.mark.parametrize("answer, message", [
    ((500, {}, b"down"), r"no token from http://.*/token: Server error '500"),
    ((200, {}, b"not json"), r"no token from http://.*/token: "),
    ((200, {}, b'{"token": ""}'), r"the token service http://.*/token answered without a token"),
    ((200, {}, b'["token"]'), r"answered without a token"),
])
def test_token_services_that_give_no_token(reg, answer, message):
    digest = "sha256:" + "d" * 64
    challenge(reg, f'Bearer realm="{reg.url}/token",service="s"', digest)
    reg.routes["/token"] = answer
    with RegistryClient() as client, pytest.raises(RegistryError, match=message):
        client.get_manifest(parse_reference(reg.ref(digest)))


def test_explain_refuses_a_registry_manifest_of_another_size(reg):
    from rebuildx.explain.sources import RegistrySource

    child = image(reg)
    child_digest = reg.manifest(child)
    source = RegistrySource(reg.ref(child_digest))
    try:
        with pytest.raises(RegistryError, match=rf"manifest {child_digest} has {len(child)} bytes, its descriptor "
                                                rf"says {len(child) + 5}; refused"):
            source.document({"mediaType": MANIFEST, "digest": child_digest, "size": len(child) + 5}, 1 << 20)
        assert source.document({"mediaType": MANIFEST, "digest": child_digest, "size": len(child)}, 1 << 20) == child
    finally:
        source.close()

"""A path the user gives that cannot be used as asked (a folder where a file belongs, a file where
a folder belongs, bytes that are not text): one error naming the path, never a traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from rebuildx.compare.published import load_published
from rebuildx.engine.builders import BuilderSpecError, load_builders_file
from rebuildx.errors import DigestError, RebuildxError
from rebuildx.report import read_report
from rebuildx.report.page import ReportError
from rebuildx.trust.signatures.present import write_junit
from rebuildx.trust.signatures.source import GitSource, SignatureSourceError, image_dir
from rebuildx.trust.signatures.verdicts import SignatureReport
from rebuildx.verify.content import ContentResult, write_content_report


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(root), *args], check=True,
                   capture_output=True)


def test_a_verify_report_that_is_a_folder(tmp_path):
    with pytest.raises(ReportError) as e:
        read_report(tmp_path)
    assert str(e.value) == f"{tmp_path}: cannot read the verify report: Is a directory"


def test_a_builders_file_that_is_a_folder(tmp_path):
    with pytest.raises(BuilderSpecError) as e:
        load_builders_file(tmp_path)
    assert str(e.value) == f"{tmp_path}: cannot read the builders file: Is a directory"


@pytest.mark.parametrize("field", ["name", "tls"])
def test_a_builder_name_or_tls_that_is_not_a_string(tmp_path, field):
    f = tmp_path / "b.toml"
    f.write_text(f'[[builder]]\nhost = "unix:///a"\n{field} = 7\n')
    with pytest.raises(BuilderSpecError) as e:
        load_builders_file(f)
    assert str(e.value).endswith(f": {field} must be a string") and str(f) in str(e.value)


@pytest.mark.parametrize("write", [
    lambda path: write_junit(SignatureReport("2099.01.0", 2, "folder"), path),
    lambda path: write_content_report(ContentResult(None), path, "2099.01.0"),
])
def test_a_report_written_where_a_folder_is(tmp_path, write):
    (tmp_path / "out.xml").mkdir()
    with pytest.raises(RebuildxError) as e:
        write(tmp_path / "out.xml")
    assert str(e.value).startswith(f"{tmp_path / 'out.xml'}: cannot write the ") and "Is a directory" in str(e.value)


def test_a_published_digest_file_that_is_not_text_names_its_ref(tmp_path):
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "digests").mkdir()
    (tmp_path / "digests/core.txt").write_bytes(b"\xff\xfe not text\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "digests")
    with pytest.raises(DigestError) as e:
        load_published(tmp_path, ("git:main",))
    assert str(e.value).startswith("main:digests/core.txt: not UTF-8 text (invalid start byte at byte 0)")


def test_a_signatures_source_that_is_a_file(tmp_path):
    (tmp_path / "sigs").write_text("")
    with pytest.raises(SignatureSourceError) as e:
        GitSource(f"git:{tmp_path / 'sigs'}", "2099.01.0")
    assert str(e.value) == f"git:{tmp_path / 'sigs'}: {tmp_path / 'sigs'} is not a folder"


def test_a_signatures_ref_without_a_stagex_folder(tmp_path):
    git(tmp_path, "init", "-q", "-b", "release/2099.01.0")
    (tmp_path / "README").write_text("not signatures\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "readme")
    with pytest.raises(SignatureSourceError) as e:
        GitSource(f"git:{tmp_path}", "2099.01.0")
    assert str(e.value) == f"git:{tmp_path}: release/2099.01.0 holds no stagex/ folder of signatures"


def test_a_published_digest_that_cannot_name_a_signatures_folder():
    with pytest.raises(SignatureSourceError) as e:
        image_dir("core-x", "sha256:" + "a" * 64)
    assert str(e.value) == f"core-x: digest {'sha256:' + 'a' * 64!r} is not 64 hex digits"

"""A Python user drives a whole verify through `rebuildx.api`, without click, and sees each step."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from rebuildx import api
from rebuildx.errors import RebuildxError
from rebuildx.outcomes import Verdict


class Recorder(api.Events):
    def __init__(self) -> None:
        self.seen: list[str] = []

    def checked(self, report) -> None:
        self.seen.append("checked")

    def fetched(self, report) -> None:
        self.seen.append("fetched")

    def planned(self, plan, durations, jobs) -> None:
        self.seen.append(f"planned {len(plan.names)}")

    def started(self, name: str) -> None:
        self.seen.append(f"started {name}")

    def finished(self, name: str, result) -> None:
        self.seen.append(f"finished {name} {result.status.value}")


@pytest.mark.engine
def test_verify_from_the_api(upstream, tmp_path):
    events = Recorder()
    request = api.VerifyRequest(release="2099.01.0", tree_dir=tmp_path / "stagex", repo=str(upstream.root),
                                selection=("core-hello",), jobs=2)
    outcome = api.verify(request, events=events)
    assert outcome.exit_code == 0
    assert {v.verdict for v in outcome.comparison.verdicts} == {Verdict.MATCH}
    assert events.seen[:3] == ["checked", "fetched", f"planned {len(outcome.comparison.verdicts)}"]
    assert "finished core-hello built" in events.seen
    assert json.loads(outcome.report_path.read_text())["release"] == "2099.01.0"
    tree = api.open_tree(tmp_path / "stagex")
    status = api.status(tree, "2099.01.0")
    assert "core-hello" in status.chain_verified
    compared = api.compare(tree, ("core-hello",), ("release/2099.01.0",))  # a bare ref is read as one
    assert compared.comparison.exit_code == 0 and compared.names[-1] == "core-hello"


def test_the_api_raises_only_rebuildx_errors(tmp_path):
    with pytest.raises(RebuildxError, match="not a StageX tree"):
        api.open_tree(tmp_path)
    with pytest.raises(RebuildxError, match="not of the form YYYY.MM.N"):
        api.verify(api.VerifyRequest(release="garbage", tree_dir=tmp_path))


def test_published_names_a_directory_url_or_ref(graph_tree: Path):
    with pytest.raises(RebuildxError, match=r"--published release/2026.03.0: no such directory, URL or git ref"):
        api.compare(api.open_tree(graph_tree), ("core-bash",), ("release/2026.03.0",))


def test_plan_from_the_api_needs_no_http_client(graph_tree: Path):
    import subprocess

    code = ("import sys; from rebuildx import api; r = api.plan(api.open_tree(sys.argv[1]), ['core-bash']); "
            "assert r.plan.names[-1] == 'core-bash'; "
            "heavy = [m for m in ('httpx', 'rich', 'click') if m in sys.modules]; print(heavy)")
    done = subprocess.run([sys.executable, "-c", code, str(graph_tree)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_careless_python_input_is_taken_or_refused_as_a_rebuildx_error(tmp_path):
    """What a Python caller easily gets wrong: one name as a str (or `("core-hello")` without its
    comma), paths as str, zero jobs or quorum. Each is read as meant, or refused as a
    RebuildxError naming it, never a TypeError, an AttributeError or a silent no-op."""
    from rebuildx.build.run import BuildOptions
    from treegen import write_fixture_tree

    root = write_fixture_tree(tmp_path / "stagex").root
    tree = api.open_tree(str(root))
    assert api.plan(tree, "core-hello").plan.names == api.plan(tree, ["core-hello"]).plan.names
    assert api.plan(tree, None).plan.names == api.plan(tree).plan.names
    with pytest.raises(RebuildxError, match=r"selection: a package name is a string, not 5"):
        api.plan(tree, ["core-hello", 5])  # type: ignore[list-item]
    with pytest.raises(RebuildxError, match=r"jobs: 0 .* at least 1"):
        api.build(tree, "core-hello", BuildOptions(jobs=0))
    with pytest.raises(RebuildxError, match="no package 'nope'"):
        api.explain(str(root), "nope", str(tmp_path))  # type: ignore[arg-type]
    request = api.VerifyRequest(release="2099.01.0", tree_dir=str(root), selection="core-hello")  # type: ignore[arg-type]
    assert request.tree_dir == root and request.selection == ("core-hello",)
    for bad, words in (({"jobs": 0}, "jobs: 0"), ({"deps": "nope"}, "deps: 'nope'"), ({"engine": "docker"}, "engine: 'docker'")):
        with pytest.raises(RebuildxError, match=words):
            api.VerifyRequest(release="2099.01.0", tree_dir=root, **bad)  # type: ignore[arg-type]
    sigs = api.SignaturesRequest(tree_dir=str(root), release="2099.01.0", keyrings="k.gpg", trust="A" * 40)  # type: ignore[arg-type]
    assert sigs.tree_dir == root and sigs.keyrings == (Path("k.gpg"),) and sigs.trust == ("A" * 40,)
    with pytest.raises(RebuildxError, match="quorum: 0"):
        api.SignaturesRequest(tree_dir=root, release="2099.01.0", quorum=0)
    sign = api.SignRequest(tree_dir=str(root), release="2099.01.0", key="K", sigs_dir=str(tmp_path))  # type: ignore[arg-type]
    assert sign.sigs_dir == tmp_path and sign.tree_dir == root


def test_a_report_path_that_cannot_be_written_is_refused_before_anything_runs(tmp_path):
    """Found out only after hours of builds, a typo in --report would lose the report."""
    (tmp_path / "file").write_text("a file, not a folder")
    for bad in (tmp_path / "file" / "report.json", tmp_path):
        for run in (api.verify, api.verify_content):
            request = api.VerifyRequest(release="2099.01.0", tree_dir=tmp_path / "stagex", repo=str(tmp_path / "nope"),
                                        report_path=bad)
            with pytest.raises(RebuildxError, match=rf"{bad}: cannot write the report"):
                run(request)
    assert not (tmp_path / "stagex").exists()

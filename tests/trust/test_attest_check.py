"""k-of-n check: what counts, and every hostile envelope or source counting for nothing."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

import pytest

from attestkit import NOW, RELEASE, A, B, facts, key, matching, put, signed_lines
from rebuildx.compare.verdicts import compare
from rebuildx.exitcodes import DIFFERS, INCOMPLETE, NOTHING, OK
from rebuildx.trust.attest import store
from rebuildx.trust.attest.check import CheckVerdict, check_release
from rebuildx.trust.attest.envelope import sign, to_line
from rebuildx.trust.attest.keys import AttestError, load_trusted
from rebuildx.trust.attest.sources import Source
from rebuildx.trust.attest.statement import statements_for
from treegen import LoopbackServer, QuietHandler

PUBLISHED = {"core-x": A, "core-y": A}


@pytest.fixture
def rebuilders(tmp_path):
    return [key(tmp_path, f"k{i}") for i in range(3)]


def run_check(root, rebuilders, threshold=2, published=PUBLISHED, sources=None, trust=None):
    trusted = load_trusted(trust if trust is not None else [pub for _, pub in rebuilders])
    return check_release(RELEASE, published, sorted(published), sources or [Source(str(root))], trusted,
                         threshold, NOW)


def verdicts(result):
    return {p.package: p.verdict for p in result.packages}


def test_agreed_short_disputed_none(tmp_path, rebuilders):
    root = tmp_path / "tree"
    (s0, _), (s1, _), (s2, _) = rebuilders
    put(root, signed_lines(matching(["core-x", "core-y"]), facts(), s0))
    put(root, signed_lines(matching(["core-x"]), facts(), s1))
    result = run_check(root, rebuilders)
    assert verdicts(result) == {"core-x": CheckVerdict.AGREED, "core-y": CheckVerdict.SHORT}
    assert result.exit_code == INCOMPLETE
    put(root, signed_lines(matching(["core-y"]), facts(), s2))
    assert run_check(root, rebuilders).exit_code == OK
    # a third trusted rebuilder attests a MISMATCH of core-x: disputed though 2 of 3 agree
    put(root, signed_lines(compare(["core-x"], {"core-x": B}, {"core-x": A}), facts(), s2))
    result = run_check(root, rebuilders)
    assert verdicts(result)["core-x"] is CheckVerdict.DISPUTED and result.exit_code == DIFFERS
    doc = result.to_json()["verdicts"][0]
    assert doc["mismatched_by"] == [rebuilders[2][0].public_key.keyid] and len(doc["matched_by"]) == 2
    assert run_check(tmp_path / "empty", rebuilders).exit_code == NOTHING


def test_a_failed_build_is_neither_agreement_nor_dispute(tmp_path, rebuilders):
    root = tmp_path / "tree"
    put(root, signed_lines(compare(["core-x"], {}, {"core-x": A}, {"core-x": "boom"}), facts(), rebuilders[0][0]))
    result = run_check(root, rebuilders, published={"core-x": A})
    assert verdicts(result) == {"core-x": CheckVerdict.NONE} and result.packages[0].failed_by


def test_one_key_counts_once(tmp_path, rebuilders):
    root = tmp_path / "tree"
    s0, pub0 = rebuilders[0]
    put(root, signed_lines(matching(["core-x"]), facts(), s0))
    put(root, signed_lines(matching(["core-x"]), facts(finished=NOW - timedelta(hours=2)), s0))  # a second run
    copy = tmp_path / "copy.pub"
    copy.write_bytes(pub0.read_bytes())
    assert len(load_trusted([pub0, copy, pub0])) == 1
    result = run_check(root, rebuilders, threshold=2, published={"core-x": A},
                       sources=[Source(str(root)), Source(str(root))])  # the same tree named twice too
    assert verdicts(result) == {"core-x": CheckVerdict.SHORT} and len(result.packages[0].matched_by) == 1


def hostile(tmp_path, rebuilders, line: bytes, package="core-x", hex_=A):
    root = tmp_path / "tree"
    with store.locked(root):
        store.append(root, RELEASE, package, hex_, [line])
    result = run_check(root, rebuilders, threshold=1, published={package: hex_})
    assert verdicts(result) == {package: CheckVerdict.NONE}, result.to_json()
    return result.packages[0].rejected


def envelope(statement, signer) -> dict:
    return sign(statement, signer)


def statement(names=("core-x",), **kw):
    return statements_for(matching(list(names)), facts(**kw))[0]


def test_bad_signature(tmp_path, rebuilders):
    env = envelope(statement(), rebuilders[0][0])
    payload = json.loads(base64.b64decode(env["payload"]))
    payload["predicate"]["rebuild"]["treeCommit"] = "f" * 40
    env["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    assert "bad signature by trusted key" in hostile(tmp_path, rebuilders, to_line(env))[0]


def test_untrusted_key(tmp_path, rebuilders):
    stranger, _ = key(tmp_path, "stranger")
    assert "signed by no trusted key" in hostile(tmp_path, rebuilders, to_line(envelope(statement(), stranger)))[0]


def test_a_trusted_key_id_on_a_strangers_signature(tmp_path, rebuilders):
    stranger, _ = key(tmp_path, "stranger")
    env = envelope(statement(), stranger)
    env["signatures"][0]["keyid"] = rebuilders[0][0].public_key.keyid
    assert "bad signature" in hostile(tmp_path, rebuilders, to_line(env))[0]


def test_envelope_for_another_digest_or_package(tmp_path, rebuilders):
    other_digest = envelope(statements_for(matching(["core-x"], B), facts())[0], rebuilders[0][0])
    assert "not this package's published digest" in hostile(tmp_path, rebuilders, to_line(other_digest))[0]
    other_package = envelope(statement(["core-y"]), rebuilders[0][0])
    assert "core-y" in hostile(tmp_path / "2", rebuilders, to_line(other_package))[0]


def test_statement_of_another_release_replayed(tmp_path, rebuilders):
    old = envelope(statement(release="2098.12.0"), rebuilders[0][0])
    assert "release 2098.12.0, not 2099.01.0" in hostile(tmp_path, rebuilders, to_line(old))[0]


def test_future_and_absurd_times(tmp_path, rebuilders):
    future = envelope(statement(finished=NOW + timedelta(days=1)), rebuilders[0][0])
    assert "in the future" in hostile(tmp_path, rebuilders, to_line(future))[0]
    absurd = envelope(statement(finished=NOW.replace(year=1970)), rebuilders[0][0])
    assert "absurd time" in hostile(tmp_path / "2", rebuilders, to_line(absurd))[0]


def test_garbage_and_deep_nesting(tmp_path, rebuilders):
    assert "not JSON" in hostile(tmp_path, rebuilders, b"{not json" + b" " * 300 + b"\n")[0]
    assert "1 lines too short to be an envelope" in hostile(tmp_path / "1", rebuilders, b"{not json\n")[0]
    deep = b"[" * 200_000 + b"]" * 200_000 + b"\n"
    assert "nested too deeply" in hostile(tmp_path / "2", rebuilders, deep)[0] or "bytes" in hostile(
        tmp_path / "2", rebuilders, deep)[0]
    nested_payload = {"payload": base64.b64encode(b"[" * 100_000).decode(), "payloadType": "application/vnd.in-toto+json",
                      "signatures": []}
    assert hostile(tmp_path / "3", rebuilders, to_line(nested_payload))


def test_a_huge_file_is_not_read(tmp_path, rebuilders):
    root = tmp_path / "tree"
    path = root / store.relative_path(RELEASE, "core-x", A)
    path.parent.mkdir(parents=True)
    with path.open("wb") as f:  # sparse: 1 GiB without the disk
        f.truncate(1024 ** 3)
    result = run_check(root, rebuilders, threshold=1, published={"core-x": A})
    assert verdicts(result) == {"core-x": CheckVerdict.NONE}
    assert "more than the" in result.packages[0].unreadable[0] and "not read" in result.packages[0].unreadable[0]


def test_threshold_beyond_the_distinct_trusted_keys_is_refused(tmp_path, rebuilders):
    from rebuildx.trust.attest.check import require_threshold
    with pytest.raises(AttestError, match="1 distinct trusted key"):
        require_threshold(load_trusted([rebuilders[0][1], rebuilders[0][1]]), 2)


class Server(LoopbackServer):
    """Serves a tree from a directory, and can answer every file with a redirect or a huge body."""

    def __init__(self, root, mode="serve", target=""):
        self.root, self.mode, self.target = root, mode, target
        outer = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802
                if outer.mode == "redirect":
                    return self.reply(302, b"", {"Location": outer.target + self.path})
                if outer.mode == "dribble":  # a byte at a time, each well within the read timeout
                    self.send_response(200)
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    for _ in range(1000):
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        time.sleep(0.05)
                    return None
                if outer.mode == "huge":
                    self.send_response(200)
                    self.send_header("Content-Length", str(1024 ** 3))
                    self.end_headers()
                    self.wfile.write(b"x" * 65536)
                    return None
                path = outer.root / self.path.lstrip("/")
                if not path.is_file():
                    return self.reply(404, b"")
                return self.reply(200, path.read_bytes())

        self.serve(Handler)


def test_over_http_and_a_redirect_elsewhere_is_not_followed(tmp_path, rebuilders):
    root = tmp_path / "tree"
    put(root, signed_lines(matching(["core-x"]), facts(), rebuilders[0][0]))
    good = Server(root)
    bad = Server(root, "redirect", good.url)
    huge = Server(root, "huge")
    try:
        result = run_check(root, rebuilders, threshold=1, published={"core-x": A}, sources=[Source(good.url)])
        assert verdicts(result) == {"core-x": CheckVerdict.AGREED}
        result = run_check(root, rebuilders, threshold=1, published={"core-x": A}, sources=[Source(bad.url)])
        assert verdicts(result) == {"core-x": CheckVerdict.NONE}
        assert "redirects to" in result.packages[0].unreadable[0] and "not followed" in result.packages[0].unreadable[0]
        result = run_check(root, rebuilders, threshold=1, published={"core-x": A}, sources=[Source(huge.url)])
        assert verdicts(result) == {"core-x": CheckVerdict.NONE} and "not read" in result.packages[0].unreadable[0]
    finally:
        for s in (good, bad, huge):
            s.close()
    dribble = Server(root, "dribble")
    try:
        result = run_check(root, rebuilders, threshold=1, published={"core-x": A},
                           sources=[Source(dribble.url, max_seconds=0.5)])
        assert "not sent whole within 0.5 s" in result.packages[0].unreadable[0]
    finally:
        dribble.close()
    # a server gone: one connection attempt, then the other packages are not tried
    result = run_check(root, rebuilders, threshold=1, published={"core-x": A, "core-y": A}, sources=[Source(good.url)])
    assert verdicts(result) == {"core-x": CheckVerdict.NONE, "core-y": CheckVerdict.NONE}
    assert "ConnectError" in result.packages[0].unreadable[0] and "not tried" in result.packages[1].unreadable[0]


def test_a_cut_last_line_is_never_appended_to(tmp_path, rebuilders):
    root = tmp_path / "tree"
    lines = signed_lines(matching(["core-x"]), facts(), rebuilders[0][0])[("core-x", A)]
    path = root / store.relative_path(RELEASE, "core-x", A)
    path.parent.mkdir(parents=True)
    path.write_bytes(lines[0][:-20])
    with pytest.raises(AttestError, match="last line is cut"), store.locked(root):
        store.append(root, RELEASE, "core-x", A, lines)
    assert path.read_bytes() == lines[0][:-20]


def test_one_key_signing_one_envelope_twice_is_malformed(tmp_path, rebuilders):
    env = envelope(statement(), rebuilders[0][0])
    env["signatures"].append(dict(env["signatures"][0]))
    assert "Multiple signatures" in hostile(tmp_path, rebuilders, to_line(env))[0]


def test_a_cosigned_envelope_counts_each_trusted_signer_once(tmp_path, rebuilders):
    from securesystemslib.dsse import Envelope

    env = Envelope.from_dict(envelope(statement(), rebuilders[0][0]))
    env.sign(rebuilders[1][0])
    root = tmp_path / "tree"
    with store.locked(root):
        store.append(root, RELEASE, "core-x", A, [to_line(env.to_dict())])
    result = run_check(root, rebuilders, threshold=2, published={"core-x": A})
    assert verdicts(result) == {"core-x": CheckVerdict.AGREED}
    assert result.packages[0].matched_by == {rebuilders[0][0].public_key.keyid, rebuilders[1][0].public_key.keyid}


@pytest.mark.parametrize("copies, threshold, words", [
    (1, 2, "--threshold 2 cannot be met: the --trust keys given are 1 distinct trusted key (a key"),
    (3, 4, "--threshold 4 cannot be met: the --trust keys given are 3 distinct trusted keys (a key"),
])
def test_the_threshold_error_counts_the_distinct_keys(rebuilders, copies, threshold, words):
    from rebuildx.trust.attest.check import require_threshold
    with pytest.raises(AttestError) as e:
        require_threshold(load_trusted([pub for _, pub in rebuilders[:copies]]), threshold)
    assert words in str(e.value)


def test_json_report_field_by_field(tmp_path, rebuilders):
    """`attest check --json` as docs/attestations.md lists it: every key, every count (zeros too)."""
    root = tmp_path / "tree"
    (s0, _), (s1, _), _ = rebuilders
    put(root, signed_lines(matching(["core-x"]), facts(), s0))
    put(root, signed_lines(compare(["core-y"], {}, {"core-y": A}, {"core-y": "boom"}), facts(), s1))
    junk = root / store.relative_path(RELEASE, "core-y", A)
    junk.write_bytes(junk.read_bytes() + b"junk\n")
    result = run_check(root, rebuilders, threshold=1)
    ids = [s.public_key.keyid for s, _ in rebuilders]
    assert result.to_json() == {
        "format": 1, "release": RELEASE, "threshold": 1, "trusted": sorted(ids),
        "verdicts": [
            {"package": "core-x", "verdict": "AGREED", "published": A, "matched_by": [ids[0]], "mismatched_by": [],
             "failed_by": [], "rejected": [], "unreadable": []},
            {"package": "core-y", "verdict": "NONE", "published": A, "matched_by": [], "mismatched_by": [],
             "failed_by": [ids[1]], "rejected": [f"{root}: 1 lines too short to be an envelope"], "unreadable": []},
        ],
        "summary": {"AGREED": 1, "SHORT": 0, "DISPUTED": 0, "NONE": 1, "total": 2},
    }


def test_an_unreadable_source_does_not_stop_the_next_from_being_read(tmp_path, rebuilders):
    bad, good = tmp_path / "bad", tmp_path / "good"
    (bad / store.relative_path(RELEASE, "core-x", A)).mkdir(parents=True)  # a folder where the file should be
    put(good, signed_lines(matching(["core-x"]), facts(), rebuilders[0][0]))
    result = run_check(None, rebuilders, threshold=1, published={"core-x": A},
                       sources=[Source(str(bad)), Source(str(good))])
    assert verdicts(result) == {"core-x": CheckVerdict.AGREED}
    assert result.packages[0].unreadable == [f"{bad / store.relative_path(RELEASE, 'core-x', A)}: not a regular file; "
                                             "not read"]


def test_a_package_without_a_file_has_nothing_rejected(tmp_path, rebuilders):
    root = tmp_path / "tree"
    put(root, signed_lines(matching(["core-x"]), facts(), rebuilders[0][0]))
    result = run_check(root, rebuilders, threshold=1)
    assert verdicts(result) == {"core-x": CheckVerdict.AGREED, "core-y": CheckVerdict.NONE}
    assert result.packages[1].rejected == [] and result.packages[1].unreadable == []


def test_a_rejected_envelope_is_named_by_its_source_and_line(tmp_path, rebuilders):
    """The reason says where the envelope is (line numbers from 1) and which digest it is about."""
    root = tmp_path / "tree"
    good = signed_lines(matching(["core-x"]), facts(), rebuilders[0][0])[("core-x", A)]
    other = to_line(envelope(statements_for(matching(["core-x"], B), facts())[0], rebuilders[0][0]))
    with store.locked(root):
        store.append(root, RELEASE, "core-x", A, [other, *good])
    result = run_check(root, rebuilders, threshold=1, published={"core-x": A})
    assert verdicts(result) == {"core-x": CheckVerdict.AGREED}
    assert result.packages[0].rejected == [
        f"{root} line 1: a statement about core-x@sha256:{B[:12]}, not this package's published digest"]


def test_twenty_reasons_are_listed_per_source_and_the_rest_counted(tmp_path, rebuilders):
    roots = [tmp_path / "one", tmp_path / "two"]
    for root, n in zip(roots, (15, 25), strict=True):  # lines long enough to be parsed, and rejected
        path = root / store.relative_path(RELEASE, "core-x", A)
        path.parent.mkdir(parents=True)
        path.write_bytes(b"".join(b'{"payload": "%d%s"}\n' % (i, b"x" * 300) for i in range(n)))
    result = run_check(None, rebuilders, threshold=1, published={"core-x": A},
                       sources=[Source(str(r)) for r in roots])
    rejected = result.packages[0].rejected
    assert [r.split(" line ")[0] for r in rejected[:35]] == [str(roots[0])] * 15 + [str(roots[1])] * 20
    assert rejected[35:] == [f"{roots[1]}: and 5 more lines rejected"]


@pytest.mark.parametrize("ahead, counts", [(timedelta(minutes=10), True), (timedelta(minutes=10, seconds=1), False)])
def test_a_rebuilders_clock_may_run_ten_minutes_ahead(tmp_path, rebuilders, ahead, counts):
    root = tmp_path / "tree"
    put(root, signed_lines(matching(["core-x"]), facts(finished=NOW + ahead), rebuilders[0][0]))
    result = run_check(root, rebuilders, threshold=1, published={"core-x": A})
    assert (verdicts(result)["core-x"] is CheckVerdict.AGREED) is counts


def test_a_run_started_and_verified_in_the_same_second_counts(tmp_path, rebuilders):
    from dataclasses import replace

    root = tmp_path / "tree"
    run = replace(facts(), started=NOW - timedelta(hours=1))
    run = replace(run, finished=run.started)
    put(root, signed_lines(matching(["core-x"]), run, rebuilders[0][0]))
    assert verdicts(run_check(root, rebuilders, threshold=1, published={"core-x": A})) == {"core-x": CheckVerdict.AGREED}


def test_one_line_escapes_what_a_terminal_would_obey_and_caps_the_length():
    from rebuildx.trust.attest.check import MAX_REASON, one_line

    assert one_line("AGREED\x1b[32m\nline 2\tend\x00") == "AGREED\\x1b[32m\\nline 2\\tend\\x00"
    assert one_line("é—ok") == "é—ok"  # printable text is kept as it is
    assert one_line("x" * MAX_REASON) == "x" * MAX_REASON
    assert one_line("x" * (MAX_REASON + 1)) == "x" * (MAX_REASON - 1) + "…"


@pytest.mark.parametrize("block", ["file", "release"])
def test_publishing_where_a_folder_or_file_is_in_the_way_is_one_error(tmp_path, rebuilders, block):
    """A folder where the package's attestation file belongs (cannot be read), or a file where its
    release folder belongs (cannot be made): one line naming the path; nothing written."""
    root = tmp_path / "tree"
    path = root / store.relative_path(RELEASE, "core-x", A)
    if block == "file":
        path.mkdir(parents=True)
    else:
        path.parent.parent.mkdir(parents=True)
        path.parent.write_text("")
    lines = signed_lines(matching(["core-x"]), facts(), rebuilders[0][0])[("core-x", A)]
    with pytest.raises(AttestError) as e, store.locked(root):
        store.append(root, RELEASE, "core-x", A, lines)
    want = f"{path}: cannot read: Is a directory" if block == "file" else f"{path}: cannot append: File exists"
    assert str(e.value) == want

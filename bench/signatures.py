"""Signatures benchmark: a real release's files (parse + payload checks) and a generated set
(full verification) against a `gpg --verify`-per-file loop, as StageX's own tooling runs.

    bench/signatures.py REAL_SIGNATURES_DIR [--digests DIR] [--generated N] [--jobs 2]

REAL_SIGNATURES_DIR holds `stagex/<name>@sha256=<hex>/signature-N` (e.g. extracted from the
`signatures/` folder of stagex's release/2025.06.0 branch); --digests is that release's digests/
folder. No maintainer keys are available offline, so the real files are parsed and checked
without keys (gpg then reports each as "no public key"; the timing is still the whole path) and
full verification is timed on N generated signatures made with keys generated here.
"""

from __future__ import annotations

import argparse
import collections
import os
import resource
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rebuildx.compare.digestfiles import parse_digest_file
from rebuildx.trust.signatures.check import check_release
from rebuildx.trust.signatures.gpg import Keyring
from rebuildx.trust.signatures.packets import MAX_FILE, FormatError, read_message
from rebuildx.trust.signatures.payload import PayloadError, parse_claim, sign_payload
from rebuildx.trust.signatures.source import FolderSource, numbered


def real_files(root: Path, digests_dir: Path | None) -> None:
    source = FolderSource(root)
    folders = sorted(p for p in (source.root / "stagex").iterdir() if p.is_dir())
    t0, c0 = time.perf_counter(), cpu()
    errors: list[str] = []
    signers: collections.Counter[str] = collections.Counter()
    formats: collections.Counter[str] = collections.Counter()
    files = mismatched = 0
    for folder in folders:
        name, _, hexdigest = folder.name.partition("@sha256=")
        for _, entry in numbered(p.name for p in folder.iterdir()):
            files += 1
            try:
                with open(folder / entry, "rb") as f:
                    message = read_message(f.read(MAX_FILE + 1))
                claim = parse_claim(message.payload)
            except (FormatError, PayloadError) as e:
                errors.append(f"{folder.name}/{entry}: {e}")
                continue
            signers[message.issuer_fpr or message.issuer_key_id] += 1
            formats[claim.format] += 1
            if claim.digest != hexdigest or claim.name != name or claim.registry != "stagex":
                mismatched += 1
                errors.append(f"{folder.name}/{entry}: claims {claim.reference}@{claim.digest}")
    parse_s, parse_cpu = time.perf_counter() - t0, cpu() - c0
    print(f"real files: {files} in {len(folders)} folders parsed in {parse_s:.2f} s wall, {parse_cpu:.2f} s CPU "
          f"({1e6 * parse_cpu / max(files, 1):.0f} µs CPU each); payload formats {dict(formats)}")
    print(f"  unreadable or not a StageX signature: {len(errors) - mismatched}; payload names another "
          f"image or digest than its folder: {mismatched}")
    for line in errors[:10]:
        print(f"    {line}")
    print(f"  signer keys (issuer fingerprint: files): {len(signers)}")
    for fpr, count in signers.most_common():
        print(f"    {fpr} {count}")
    if digests_dir:
        release_check(source, digests_dir)


def release_check(source: FolderSource, digests_dir: Path) -> None:
    published: dict[str, str] = {}
    for stage_file in sorted(digests_dir.glob("*.txt")):
        published.update(parse_digest_file(stage_file.read_text(), str(stage_file)))
    missing = [n for n, d in published.items() if not (source.root / "stagex" / f"{n}@sha256={d}").is_dir()]
    t0, c0 = time.perf_counter(), cpu()
    with Keyring([]) as keyring:
        report = check_release(source, published, sorted(published), keyring, {}, 2, digests_dir.parent.name)
    took, took_cpu = time.perf_counter() - t0, cpu() - c0
    checks = [c for p in report.packages for c in p.checks]
    statuses = collections.Counter(c.status.value for c in checks)
    wrong = [c for c in checks if c.reason and "no key" not in c.reason]
    print(f"release check: {len(published)} packages of the digests files, {len(missing)} without a signatures "
          f"folder; {len(checks)} files checked end to end (read, parse, payload == digests file, gpg) in "
          f"{took:.2f} s wall, {took_cpu:.2f} s CPU; statuses {dict(statuses)} (no maintainer keys offline: every signer is unknown)")
    for c in wrong[:10]:
        print(f"    {c.label}: {c.reason}")
    print(f"  verdicts: {report.counts()}")


def generated(n: int, jobs: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-sigs-"))
    try:
        home = work / "gnupg"
        home.mkdir(mode=0o700)
        env = {**os.environ, "GNUPGHOME": str(home)}
        gpg = ["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
        people = {"ed25519": "alice", "rsa4096": "bob"}
        for algo, who in people.items():
            subprocess.run([*gpg, "--quick-gen-key", f"{who} <{who}@bench>", algo, "sign", "never"], env=env,
                           check=True, capture_output=True)
        keyring = work / "keyring.gpg"
        keyring.write_bytes(subprocess.run([*gpg, "--export"], env=env, check=True, capture_output=True).stdout)
        published = {f"core-p{i:05d}": f"{i:064x}" for i in range(n // 2)}
        jobs_list = [(name, d, who) for name, d in published.items() for who in people.values()]

        def sign(job: tuple[str, str, str]) -> None:
            name, d, who = job
            folder = work / "sigs" / "stagex" / f"{name}@sha256={d}"
            folder.mkdir(parents=True, exist_ok=True)
            out = subprocess.run([*gpg, "--sign", "--no-armor", "--local-user", f"{who}@bench"], env=env,
                                 input=sign_payload("stagex", name, "1.0", d), check=True, capture_output=True)
            (folder / f"signature-{1 if who == 'alice' else 2}").write_bytes(out.stdout)

        t0 = time.perf_counter()
        with ThreadPoolExecutor(jobs) as pool:
            list(pool.map(sign, jobs_list))
        print(f"generated: {len(jobs_list)} signatures (Ed25519 and RSA-4096) made in {time.perf_counter() - t0:.1f} s")
        fprs = subprocess.run([*gpg, "--with-colons", "--list-keys"], env=env, capture_output=True, text=True).stdout
        trusted = {ln.split(":")[9]: ln.split(":")[9] for ln in fprs.splitlines() if ln.startswith("fpr:")}

        t0, c0 = time.perf_counter(), cpu()
        with Keyring([keyring]) as kr:
            report = check_release(FolderSource(work / "sigs"), published, sorted(published), kr, trusted, 2, "bench")
        ours, ours_cpu = time.perf_counter() - t0, cpu() - c0
        assert report.counts()["QUORUM"] == len(published), report.counts()

        files = sorted((work / "sigs").rglob("signature-*"))
        t0, c0 = time.perf_counter(), cpu()
        for f in files:  # one process per file, the way StageX's scripts call gpg
            subprocess.run(["gpg", "--batch", "--status-fd", "1", "--verify", str(f)], env=env, capture_output=True)
        loop, loop_cpu = time.perf_counter() - t0, cpu() - c0
        print(f"full verification of {len(files)} signatures: rebuildx {ours:.2f} s wall, {ours_cpu:.2f} s CPU "
              f"({1e3 * ours / len(files):.2f} ms each, quorum judged); gpg --verify per file {loop:.2f} s wall, "
              f"{loop_cpu:.2f} s CPU; ratio {loop / ours:.1f}x wall, {loop_cpu / ours_cpu:.1f}x CPU")
        print(f"  projected for a release of 7,714 files: {7714 * ours / len(files):.1f} s wall here, "
              f"{7714 * ours_cpu / len(files) / 2:.1f} s on 2 idle cores (target <= 15 s); load {os.getloadavg()[0]:.1f}")
    finally:
        subprocess.run(["gpgconf", "--homedir", str(work / "gnupg"), "--kill", "gpg-agent"], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def cpu() -> float:
    """CPU seconds of this process and its children so far (a shared machine's load does not count)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("real", type=Path, nargs="?", help="a folder holding stagex/<name>@sha256=<hex>/signature-N")
    parser.add_argument("--digests", type=Path, help="the release's digests/ folder")
    parser.add_argument("--generated", type=int, default=2000, help="signatures to generate (default 2000)")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    if args.real:
        real_files(args.real, args.digests)
    if args.generated:
        generated(args.generated, args.jobs)


if __name__ == "__main__":
    main()

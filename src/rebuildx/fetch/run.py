"""Fetch the sources of a set of packages into fetch/: the orchestration over plan, http, verify.

One worker per file group (the jobs that want one sha256), at most `Limits.jobs` at once. A
group first looks for a verified copy already in place, then, holding the group's lock, tries
each candidate in order: the `--sources` directory, `--mirror`s, the packages' own mirrors.
Per-file failures never raise: they are results, and the caller decides (the CLI exits 1).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from rebuildx.fetch.files import Staging
from rebuildx.fetch.http import Downloader, DownloadFailed, Limits, RetryPolicy, Timeouts
from rebuildx.fetch.plan import Candidate, FileGroup, SourceJob, plan_fetch
from rebuildx.fetch.progress import NullProgress, Progress
from rebuildx.fetch.report import Attempt, FetchReport, FileResult, Outcome
from rebuildx.fetch.verify import Snapshot, VerifiedFiles, check_file, copy_hashing
from rebuildx.logs import logger
from rebuildx.stagex.model import Package
from rebuildx.state.db import connect
from rebuildx.workspace import Workspace

log = logger(__name__)


@dataclass(frozen=True)
class FetchOptions:
    """How to fetch. The defaults suit a cold fetch from the internet."""

    sources_dir: Path | None = None  # flat directory of files, tried before any network
    mirrors: tuple[str, ...] = ()  # `URL/<file>` tried before the packages' own mirrors
    offline: bool = False  # never touch the network
    rehash: bool = False  # hash files in place even when a verification is on record
    limits: Limits = field(default_factory=Limits)
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass
class _Got:
    """A verified file ready to place, and how it was had."""

    path: Path | None  # None: nothing delivered
    name: str
    via: str
    move: bool  # a temporary file (moved into place) or a file already in fetch/ (linked)
    attempts: tuple[Attempt, ...] = ()


def fetch_sources(workspace: Workspace, packages: Iterable[Package], options: FetchOptions = FetchOptions(),
                  *, progress: Progress | None = None,
                  sleep: Callable[[float], None] = time.sleep) -> FetchReport:
    """Put every source of `packages` at `fetch/<stage>/<origin>/<file>`, verified.

    Raises TreeError (before any I/O) for names that would leave the fetch directory; every
    per-file failure is a FAILED result in the report instead. `sleep` is what retries wait
    with (tests pass one that records). Ctrl-C stops the workers and keeps partial downloads.
    """
    groups = plan_fetch(packages)
    run = _Run(workspace, options, progress or NullProgress(), sleep)
    try:
        return FetchReport(tuple(run.all(groups)))
    finally:
        run.close()


class _Run:
    def __init__(self, workspace: Workspace, options: FetchOptions, progress: Progress,
                 sleep: Callable[[float], None]) -> None:
        self.root, self.options, self.progress, self.sleep = workspace.root, options, progress, sleep
        self.staging = Staging(workspace)
        self.cache = VerifiedFiles(workspace.root, lambda: connect(workspace))
        self.cancel = threading.Event()
        self._downloader: Downloader | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        if self._downloader:
            self._downloader.close()
        self.cache.close()

    def downloader(self) -> Downloader:
        """Made on first need: a warm run that downloads nothing never builds a client."""
        with self._lock:
            if self._downloader is None:
                o = self.options
                self._downloader = Downloader.create(o.limits, o.timeouts, o.retry, self.sleep, self.cancel)
            return self._downloader

    def all(self, groups: list[FileGroup]) -> list[FileResult]:
        """Groups on record as verified are settled here, in this thread (a warm run of ~900
        files then costs milliseconds: no threads, no hashing); the rest go to workers."""
        done: dict[int, list[FileResult]] = {}
        if not self.options.rehash:
            records = self.cache.snapshot()
            for i, g in enumerate(groups):
                known = self._on_record(g, records)
                if known is not None:
                    done[i] = self._finish(known)
        todo = [i for i in range(len(groups)) if i not in done]
        if todo:
            done.update(self._in_pool(groups, todo))
        return [r for i in range(len(groups)) for r in done[i]]

    def _in_pool(self, groups: list[FileGroup], todo: list[int]) -> dict[int, list[FileResult]]:
        pool = ThreadPoolExecutor(max_workers=max(min(self.options.limits.jobs, len(todo)), 1))
        try:
            futures = {i: pool.submit(self.group, groups[i]) for i in todo}
            return {i: future.result() for i, future in futures.items()}
        except BaseException:
            self.cancel.set()
            if self._downloader:
                self._downloader.abort()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    @staticmethod
    def _on_record(g: FileGroup, records: Snapshot) -> list[FileResult] | None:
        """PRESENT results if every job's file is in place as last verified, else None."""
        found = []
        for job in g.jobs:
            directory = str(job.directory)
            for name in job.names:
                st = records.is_verified(f"{directory}/{name}", job.sha256)
                if st:
                    found.append(FileResult(job.package, job.source, job.target(name), job.sha256,
                                            Outcome.PRESENT, st.st_size))
                    break
            else:
                return None
        return found

    def _finish(self, results: list[FileResult]) -> list[FileResult]:
        for r in results:
            self.progress.finished(r)
        return results

    def group(self, g: FileGroup) -> list[FileResult]:
        try:
            results = self._group(g)
        except OSError as e:  # a full disk, a permission: this group fails, the run goes on
            where = str(self.staging.dir)
            results = [self._result(j, Outcome.FAILED, j.names[0], attempts=(Attempt(where, f"{e}"),))
                       for j in g.jobs]
        return self._finish(results)

    def _group(self, g: FileGroup) -> list[FileResult]:
        found = {job: self._present(job, fix=False) for job in g.jobs}
        if all(found.values()):
            return [self._result(j, Outcome.PRESENT, n) for j, n in found.items() if n]
        with self.staging.lock(g.sha256, ", ".join(str(j.target(j.names[0])) for j in g.jobs)):
            found = {job: name or self._present(job, fix=True) for job, name in found.items()}
            missing = [job for job, name in found.items() if name is None]
            got = self._from_twin(g, found) if missing else None
            if missing and got is None:
                got = self._obtain(g)
            placed = self._place(g, missing, got) if got and got.path else {}
            self.staging.discard(g.sha256, keep_partial=not placed)
        return [self._outcome(j, found[j], placed.get(j), got) for j in g.jobs]

    def _outcome(self, job: SourceJob, present: str | None, placed: str | None, got: _Got | None) -> FileResult:
        if present:
            return self._result(job, Outcome.PRESENT, present)
        attempts = got.attempts if got else ()
        if placed and got:
            return self._result(job, Outcome.FETCHED, placed, via=got.via, attempts=attempts)
        return self._result(job, Outcome.FAILED, job.names[0], attempts=attempts)

    def _result(self, job: SourceJob, outcome: Outcome, name: str, via: str = "",
                attempts: tuple[Attempt, ...] = ()) -> FileResult:
        path = job.target(name)
        size = (self.root / path).stat().st_size if outcome is not Outcome.FAILED else 0
        return FileResult(job.package, job.source, path, job.sha256, outcome, size, via, attempts)

    def _present(self, job: SourceJob, *, fix: bool) -> str | None:
        """The name under which `job`'s file is in place and verified; with `fix`, remove a
        file in its place with the wrong hash (as StageX's fetch.py does) so it is fetched."""
        for name in job.names:
            path = self.root / job.target(name)
            ok = check_file(self.cache, path, job.sha256, rehash=self.options.rehash)
            if ok:
                return name
            if ok is False and fix:
                log.warning("%s: sha256 is not %s; removed to fetch it again", path, job.sha256)
                path.unlink(missing_ok=True)
        return None

    def _from_twin(self, g: FileGroup, found: dict[SourceJob, str | None]) -> _Got | None:
        """Another origin already has these bytes: link them rather than download again."""
        for job, name in found.items():
            if name:
                path = job.target(name)
                return _Got(self.root / path, name, str(path), move=False)
        return None

    def _obtain(self, g: FileGroup) -> _Got:
        attempts: list[Attempt] = []
        for cand in g.candidates(self.options.sources_dir, self.options.mirrors):
            if cand.networked and self.options.offline:
                attempts.append(Attempt(cand.where, "not tried: offline"))
                continue
            attempt, path = self._from_url(g, cand) if cand.networked else self._from_dir(g, cand)
            attempts.append(attempt)
            if path:
                return _Got(path, cand.file, cand.where, move=True, attempts=tuple(attempts))
        return _Got(None, "", "", move=False, attempts=tuple(attempts))

    def _from_dir(self, g: FileGroup, cand: Candidate) -> tuple[Attempt, Path | None]:
        src = Path(cand.where)
        if not src.is_file():
            return Attempt(cand.where, "no such file"), None
        tmp = self.staging.scratch(g.sha256)
        try:
            digest = copy_hashing(src, tmp)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            return Attempt(cand.where, f"unreadable: {e}"), None
        if digest != g.sha256:
            tmp.unlink()
            return Attempt(cand.where, f"sha256 mismatch: got {digest}"), None
        return Attempt(cand.where, "ok", ok=True), tmp

    def _from_url(self, g: FileGroup, cand: Candidate) -> tuple[Attempt, Path | None]:
        """Download into the group's partial file; wrong bytes are deleted at once. A resumed
        download that does not match is tried once more from zero: the kept prefix may have
        come from another, bad, mirror or a killed run."""
        partial = self.staging.partial(g.sha256)
        limit = g.size if g.size is not None else self.options.limits.max_source_bytes
        for _ in range(2):
            try:
                t = self.downloader().fetch(cand.where, partial,
                                            lambda done, total: self.progress.transfer(g.sha256, done, total),
                                            limit)
            except DownloadFailed as e:
                return Attempt(cand.where, e.answer), None
            if t.sha256 == g.sha256:
                return Attempt(cand.where, f"ok, {t.size} bytes", ok=True), partial
            partial.unlink(missing_ok=True)
            if not t.resumed_from:
                break
        return Attempt(cand.where, f"sha256 mismatch: got {t.sha256} ({t.size} bytes)"), None

    def _place(self, g: FileGroup, missing: list[SourceJob], got: _Got) -> dict[SourceJob, str]:
        placed: dict[SourceJob, str] = {}
        assert got.path is not None
        src, move = got.path, got.move
        for job in missing:
            name = g.name_for(job, got.name)
            target = self.root / job.target(name)
            self.staging.place(src, target, g.sha256, move=move)
            self.cache.record(target, g.sha256, target.stat())
            src, move = target, False
            placed[job] = name
        return placed

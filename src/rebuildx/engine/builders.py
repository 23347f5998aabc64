"""Builders: the BuildKit endpoints a run builds on, and how to reach each one.

A builder is named by a SPEC, on the command line (`--builder SPEC`, repeatable) or in a TOML
builders file. Every form is the engine's own way of reaching a remote BuildKit, never a protocol
of ours: the client sends the build contexts (the deps as `oci-layout://`, `fetch/`) and receives
the OCI tarball, so builders share no storage.

    unix:///run/b1/docker.sock   a DOCKER_HOST URL (unix://, tcp:// — TLS with tls=CERTDIR —, ssh://)
    context:farm-1               a docker context (`docker context create farm-1 --docker host=…`)
    buildx:k8s                   a buildx builder (any driver: docker, docker-container, remote,
                                 kubernetes), passed as `docker buildx build --builder k8s`
    default                      the local Docker, as without --builder

Each SPEC may carry `,jobs=N` (concurrent builds on it; default 1) and `,name=LABEL` (how reports
name it; default: the SPEC itself). A builders file holds `[[builder]]` tables with the same keys:
`host`, `context` or `buildx` (one of them), `jobs`, `name`, `tls`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from rebuildx.engine.check import EngineInfo, require_engine
from rebuildx.errors import EngineError
from rebuildx.proc import run


class BuilderSpecError(EngineError):
    """A --builder SPEC or builders file that does not name a builder rebuildx can reach."""

_SCHEMES = ("unix", "tcp", "ssh")
KINDS = ("default", "host", "context", "buildx")


@dataclass(frozen=True)
class BuilderSpec:
    """One builder: how to reach it (`kind`, `target`), how many builds it takes at once."""

    name: str
    kind: str  # one of KINDS
    target: str = ""  # the URL, context name or buildx builder name
    jobs: int = 1
    tls: str | None = None  # a tcp:// host's certificate directory (DOCKER_CERT_PATH)

    def env(self) -> dict[str, str]:
        """The environment every docker command for this builder runs with (over the caller's)."""
        if self.kind == "host":
            env = {"DOCKER_HOST": self.target, "DOCKER_CONTEXT": ""}
            if self.tls:
                env.update({"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": self.tls})
            return env
        if self.kind == "context":
            return {"DOCKER_CONTEXT": self.target, "DOCKER_HOST": ""}
        return {}

    def buildx_args(self) -> list[str]:
        """Arguments after `docker buildx build` that select this builder (not in the input key:
        where a package is built does not change what it is)."""
        return ["--builder", self.target] if self.kind == "buildx" else []


DEFAULT = BuilderSpec("default", "default")


def parse_spec(text: str) -> BuilderSpec:
    """`TARGET[,jobs=N][,name=LABEL][,tls=DIR]` -> BuilderSpec; a UsageError names what is wrong."""
    target, *options = [part.strip() for part in text.split(",")]
    fields: dict[str, str] = {}
    for option in options:
        key, eq, value = option.partition("=")
        if not eq or key not in ("jobs", "name", "tls") or not value:
            raise BuilderSpecError(f"--builder {text!r}: {option!r} is not one of jobs=N, name=LABEL, tls=DIR")
        fields[key] = value
    return _make(text, _target(text, target), fields)


def _target(text: str, target: str) -> tuple[str, str]:
    if not target:
        raise BuilderSpecError(f"--builder {text!r}: no builder named before the options")
    if "://" in target:
        scheme = target.split("://", 1)[0]
        if scheme not in _SCHEMES or not target.split("://", 1)[1]:
            raise BuilderSpecError(f"--builder {text!r}: a DOCKER_HOST URL is unix://PATH, tcp://HOST:PORT or "
                             f"ssh://[USER@]HOST, not {target!r}")
        return "host", target
    kind, colon, name = target.partition(":")
    if colon:
        if kind not in ("context", "buildx") or not name:
            raise BuilderSpecError(f"--builder {text!r}: write context:NAME, buildx:NAME or a DOCKER_HOST URL")
        return kind, name
    if target == "default":
        return "default", ""
    raise BuilderSpecError(f"--builder {text!r}: say what {target!r} is: context:{target} (a docker context) or "
                     f"buildx:{target} (a buildx builder)")


def _make(text: str, kind_target: tuple[str, str], fields: dict[str, str]) -> BuilderSpec:
    kind, target = kind_target
    try:
        jobs = int(fields.get("jobs", "1"))
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise BuilderSpecError(f"builder {text!r}: jobs must be a whole number >= 1, not {fields.get('jobs')!r}")
    if "tls" in fields and not target.startswith("tcp://"):
        raise BuilderSpecError(f"builder {text!r}: tls=DIR is for tcp:// hosts only")
    name = fields.get("name") or (target if kind in ("host", "default") else f"{kind}:{target}") or "default"
    return BuilderSpec(name, kind, target, jobs, fields.get("tls"))


def load_builders_file(path: Path) -> list[BuilderSpec]:
    """`[[builder]]` tables: exactly one of host/context/buildx, optional jobs, name, tls."""
    try:
        data = tomllib.loads(path.read_text())
    except OSError as e:
        raise BuilderSpecError(f"{path}: cannot read the builders file: {e.strerror or e}") from e
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise BuilderSpecError(f"{path}: not a TOML builders file: {e}") from e
    tables = data.get("builder")
    if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
        raise BuilderSpecError(f"{path}: no [[builder]] tables (each: host, context or buildx; jobs; name)")
    return [_from_table(path, i, t) for i, t in enumerate(tables, 1)]


def _from_table(path: Path, index: int, table: dict) -> BuilderSpec:
    where = f"{path}: builder #{index}"
    unknown = set(table) - {"host", "context", "buildx", "jobs", "name", "tls"}
    if unknown:
        raise BuilderSpecError(f"{where}: unknown field {sorted(unknown)[0]!r} (fields: host, context, buildx, jobs, name, tls)")
    given = [k for k in ("host", "context", "buildx") if k in table]
    if len(given) != 1 or not isinstance(table[given[0]], str):
        raise BuilderSpecError(f"{where}: give exactly one of host, context or buildx, as a string")
    key = given[0]
    target = table[key] if key == "host" else f"{key}:{table[key]}"
    jobs = table.get("jobs", 1)
    if not isinstance(jobs, int) or isinstance(jobs, bool):
        raise BuilderSpecError(f"{where}: jobs must be a whole number >= 1, not {jobs!r}")
    fields = {"jobs": str(jobs)}
    for k in ("name", "tls"):
        if k in table:
            if not isinstance(table[k], str):
                raise BuilderSpecError(f"{where}: {k} must be a string")
            fields[k] = table[k]
    return _make(f"{where}", _target(where, target), fields)


def resolve_builders(specs: list[str], files: list[Path]) -> list[BuilderSpec]:
    """Every builder of --builder and the builders files, names unique; none given: the default."""
    builders = [parse_spec(s) for s in specs] + [b for f in files for b in load_builders_file(f)]
    seen: set[str] = set()
    for b in builders:
        if b.name in seen:
            raise BuilderSpecError(f"two builders are named {b.name!r}: give each its own name=LABEL")
        seen.add(b.name)
    return builders or [DEFAULT]


def builder_env(spec: BuilderSpec, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The whole environment of a docker command for `spec`: the caller's, with the builder's
    variables set and the ones it empties removed (DOCKER_HOST and DOCKER_CONTEXT exclude each other)."""
    env = dict(os.environ if base is None else base)
    for key, value in spec.env().items():
        if value:
            env[key] = value
        else:
            env.pop(key, None)
    return env


def probe_builder(spec: BuilderSpec) -> EngineInfo:
    """What the builder runs; an EngineError naming the builder and the fix when it cannot build."""
    where = f"builder {spec.name}: "
    if spec.kind != "buildx":
        return require_engine(builder_env(spec), where)
    done = run(["docker", "buildx", "inspect", "--bootstrap", spec.target], check=False, timeout=120)
    fields = _inspect_fields(done.stdout)
    if done.returncode != 0 or "Driver" not in fields:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise EngineError(f"{where}buildx cannot reach it ({last}); fix: `docker buildx ls` lists the "
                          f"builders, `docker buildx create --name {spec.target} …` makes one")
    if fields["Driver"] == "docker":  # a Docker daemon's own BuildKit: check that daemon
        return require_engine(builder_env(BuilderSpec(spec.name, "context", fields.get("Endpoint", spec.target))),
                              where)
    buildx = run(["docker", "buildx", "version"], timeout=30).stdout.split()
    return EngineInfo(fields.get("BuildKit version") or fields.get("Buildkit", "?"),
                      (buildx + ["?", "?"])[1], True, server=f"buildkit ({fields['Driver']})")


def _inspect_fields(text: str) -> dict[str, str]:
    """`docker buildx inspect`'s `Key: value` lines; the first of each key (the first node)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, colon, value = line.partition(":")
        if colon and key.strip() and not key.startswith(" "):
            fields.setdefault(key.strip(), value.strip())
    return fields


def answers(spec: BuilderSpec, timeout: float = 20) -> bool:
    """A quick probe: does the builder answer now? (Used to tell a builder that went down from
    a build that failed.)"""
    argv = (["docker", "buildx", "inspect", spec.target] if spec.kind == "buildx"
            else ["docker", "version", "-f", "{{.Server.Version}}"])
    try:
        done = run(argv, env=builder_env(spec), check=False, timeout=timeout)
    except EngineError:  # no answer within the timeout
        return False
    if spec.kind == "buildx":
        return done.returncode == 0 and _inspect_fields(done.stdout).get("Status") == "running"
    return done.returncode == 0


def farm_identity(infos: Iterable[EngineInfo]) -> str:
    """The engine identity of a run on several builders: their distinct identities, so a farm of
    one engine version keys builds exactly as that engine alone does."""
    return " + ".join(sorted({i.identity for i in infos}))

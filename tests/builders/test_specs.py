"""Builder SPECs and builders files: what each names, and one clear line for each mistake."""

from __future__ import annotations

import pytest

from rebuildx.engine.builders import (DEFAULT, BuilderSpec, BuilderSpecError, builder_env, load_builders_file,
                                      parse_spec, resolve_builders)


def test_each_form_names_its_builder():
    host = parse_spec("unix:///run/b1/docker.sock,jobs=3,name=b1")
    assert host == BuilderSpec("b1", "host", "unix:///run/b1/docker.sock", 3)
    assert host.env() == {"DOCKER_HOST": "unix:///run/b1/docker.sock", "DOCKER_CONTEXT": ""}
    assert host.buildx_args() == []
    tls = parse_spec("tcp://b2:2376,tls=/etc/b2")
    assert tls.name == "tcp://b2:2376" and tls.env()["DOCKER_CERT_PATH"] == "/etc/b2"
    assert tls.env()["DOCKER_TLS_VERIFY"] == "1"
    assert parse_spec("ssh://me@b3").env()["DOCKER_HOST"] == "ssh://me@b3"
    ctx = parse_spec("context:farm")
    assert (ctx.kind, ctx.target, ctx.name, ctx.env()) == ("context", "farm", "context:farm",
                                                           {"DOCKER_CONTEXT": "farm", "DOCKER_HOST": ""})
    bx = parse_spec("buildx:k8s,jobs=4")
    assert bx.buildx_args() == ["--builder", "k8s"] and bx.env() == {} and bx.jobs == 4
    assert parse_spec("default") == DEFAULT


def test_the_builder_environment_drops_what_the_spec_empties():
    env = builder_env(parse_spec("context:farm"), {"DOCKER_HOST": "tcp://elsewhere:1", "PATH": "/bin"})
    assert env == {"DOCKER_CONTEXT": "farm", "PATH": "/bin"}


@pytest.mark.parametrize("spec, says", [
    ("farm", "context:farm (a docker context) or buildx:farm"),
    ("http://b1", "a DOCKER_HOST URL is unix://PATH"),
    ("unix://", "a DOCKER_HOST URL is unix://PATH"),
    ("default,jobs=0", "jobs must be a whole number >= 1"),
    ("default,jobs=x", "jobs must be a whole number >= 1"),
    ("default,color=red", "'color=red' is not one of jobs=N"),
    ("unix:///s,tls=/x", "tls=DIR is for tcp:// hosts only"),
    ("nope:x", "write context:NAME, buildx:NAME"),
    (",jobs=2", "no builder named"),
])
def test_a_bad_spec_is_one_line_naming_it(spec, says):
    with pytest.raises(BuilderSpecError, match=None) as e:
        parse_spec(spec)
    assert says in str(e.value) and repr(spec) in str(e.value) and "\n" not in str(e.value)


def test_a_builders_file(tmp_path):
    f = tmp_path / "builders.toml"
    f.write_text('[[builder]]\nhost = "ssh://me@b3"\njobs = 2\nname = "b3"\n\n[[builder]]\nbuildx = "k8s"\n')
    assert load_builders_file(f) == [BuilderSpec("b3", "host", "ssh://me@b3", 2),
                                     BuilderSpec("buildx:k8s", "buildx", "k8s", 1)]
    assert resolve_builders(["default"], [f])[0] == DEFAULT and len(resolve_builders(["default"], [f])) == 3
    assert resolve_builders([], []) == [DEFAULT]


@pytest.mark.parametrize("text, says", [
    ("", "no [[builder]] tables"),
    ("[[builder]]\njobs = 2\n", "give exactly one of host, context or buildx"),
    ('[[builder]]\nhost = "unix:///a"\ncontext = "b"\n', "give exactly one of host, context or buildx"),
    ('[[builder]]\nhost = "unix:///a"\njobs = "2"\n', "jobs must be a whole number"),
    ('[[builder]]\nhost = "unix:///a"\nspeed = 2\n', "unknown field 'speed'"),
    ("[[builder]\n", "not a TOML builders file"),
])
def test_a_bad_builders_file_is_one_line_naming_file_and_entry(tmp_path, text, says):
    f = tmp_path / "b.toml"
    f.write_text(text)
    with pytest.raises(BuilderSpecError) as e:
        load_builders_file(f)
    assert says in str(e.value) and str(f) in str(e.value)


def test_two_builders_of_one_name_are_refused():
    with pytest.raises(BuilderSpecError, match="two builders are named 'context:a'"):
        resolve_builders(["context:a", "context:a,jobs=2"], [])

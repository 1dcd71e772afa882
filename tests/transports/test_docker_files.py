"""Structure of docker/docker-compose.yml and docker/Dockerfile (Docker itself cannot run in CI here)."""

from __future__ import annotations

import argparse
import json
import re
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from crossdock.gateway.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"
APP_SERVICES = ("migrate", "api", "worker")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DOCKER / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose["services"]


def _instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with continuation lines joined and comments dropped."""
    logical = re.sub(r"\\\n", " ", dockerfile)
    lines = (line.strip() for line in logical.splitlines())
    return [(ins.upper(), rest.strip()) for ins, _, rest in
            (line.partition(" ") for line in lines if line and not line.startswith("#"))]


def test_compose_has_exactly_the_expected_services(services: dict) -> None:
    assert set(services) == {"postgres", "redis", "migrate", "api", "worker"}
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"


def test_redis_keeps_an_append_only_file_and_never_evicts(services: dict) -> None:
    command = services["redis"]["command"]
    assert command[0] == "redis-server"
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"


def test_app_services_run_the_right_commands(services: dict) -> None:
    assert services["api"]["command"] == ["serve"]
    assert services["worker"]["command"] == ["worker"]
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    assert services["worker"]["deploy"]["replicas"] == 2
    for name in APP_SERVICES:
        assert services[name]["build"] == {"context": "..", "dockerfile": "docker/Dockerfile"}
        assert (DOCKER / ".." / services[name]["build"]["dockerfile"]).is_file()


def test_app_services_point_at_the_compose_postgres_and_redis(services: dict) -> None:
    postgres_env = services["postgres"]["environment"]
    for name in APP_SERVICES:
        env = services[name]["environment"]
        db = urlsplit(env["CROSSDOCK_DATABASE_URL"])
        redis = urlsplit(env["CROSSDOCK_REDIS_URL"])
        assert (db.scheme, db.hostname, db.port, db.path) == (
            "postgresql+psycopg", "postgres", 5432, f"/{postgres_env['POSTGRES_DB']}")
        assert db.username == postgres_env["POSTGRES_USER"]
        assert db.password == postgres_env["POSTGRES_PASSWORD"]
        assert (redis.scheme, redis.hostname, redis.port) == ("redis", "redis", 6379)


def test_api_listens_on_all_interfaces_on_the_published_port(services: dict) -> None:
    env = services["api"]["environment"]
    assert env["CROSSDOCK_HTTP__HOST"] == "0.0.0.0"
    assert services["api"]["ports"] == [f"{env['CROSSDOCK_HTTP__PORT']}:{env['CROSSDOCK_HTTP__PORT']}"]
    assert f":{env['CROSSDOCK_HTTP__PORT']}/healthz" in " ".join(services["api"]["healthcheck"]["test"])


def test_startup_order_waits_for_health_and_migrations(services: dict) -> None:
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("api", "worker"):
        assert services[name]["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }
    for name in ("postgres", "redis", "api"):
        assert services[name]["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL")


def test_named_volumes_are_declared(compose: dict, services: dict) -> None:
    used = {mount.split(":", 1)[0] for svc in services.values() for mount in svc.get("volumes", [])}
    assert used == set(compose["volumes"])


def test_dockerfile_builds_a_non_root_crossdock_image() -> None:
    instructions = _instructions((DOCKER / "Dockerfile").read_text())
    froms = [rest for ins, rest in instructions if ins == "FROM"]
    assert all(f.split()[0] == "python:3.11-slim" for f in froms)
    [user] = [rest for ins, rest in instructions if ins == "USER"]
    assert user.split(":")[0] not in ("0", "root")
    [entrypoint] = [rest for ins, rest in instructions if ins == "ENTRYPOINT"]
    assert json.loads(entrypoint) == ["crossdock"]
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert "crossdock" in scripts


def test_dockerfile_copies_only_paths_that_exist() -> None:
    instructions = _instructions((DOCKER / "Dockerfile").read_text())
    sources = [path for ins, rest in instructions if ins == "COPY" and "--from" not in rest
               for path in rest.split()[:-1]]
    assert sources == ["pyproject.toml", "README.md", "src"]
    assert all((REPO / source).exists() for source in sources)


def _registered_commands() -> set[str]:
    parser = build_parser()
    return {name for action in parser._actions if isinstance(action, argparse._SubParsersAction)
            for name in action.choices}


@pytest.mark.parametrize("service", APP_SERVICES)
def test_compose_commands_are_accepted_by_the_cli(services: dict, service: str) -> None:
    command = services[service]["command"]
    if command[0] not in _registered_commands():
        pytest.skip(f"`crossdock {command[0]}` is not registered in gateway/cli.py yet")
    args = build_parser().parse_args(command)
    assert callable(args.handler)

"""Static checks of docker-compose.yml against the code it runs.

No Docker needed: the file is read with PyYAML and compared with
``services.kernel.settings.Settings`` and the ``kimhub`` CLI's subcommands, so a
renamed setting or subcommand breaks this test instead of a deployment.
"""
from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from services.kafka_acls import COMPONENT_PREFIX
from services.runtime import COMPONENTS
from services.kernel.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"

ENV_PREFIX = "KIMHUB_"
CLI_SUBCOMMANDS = {"run", "serve", "migrate", "token", "audit", "kafka"}
SERVE_TARGETS = set(COMPONENTS)
EXPECTED_HUB_SERVICES = {"migrate", *COMPONENTS}

# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, ${VAR?err}, ${VAR:+alt}, ${VAR+alt}
_INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}")


# --------------------------------------------------------------------------- helpers

def load_compose(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, dict), f"{path} is not a YAML mapping"
    return data


def resolve_merge_keys(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """Apply ``<<`` merge keys that are still present as plain keys.

    ``yaml.safe_load`` already resolves ``<<: *anchor``; this also covers dicts built by
    hand (or by a loader that keeps the key), with one mapping or a list of them.
    Explicit keys win over merged ones, and earlier merge sources over later ones.
    """
    merged: dict[str, Any] = {}
    sources = mapping.get("<<")
    if sources is not None:
        for source in reversed(sources if isinstance(sources, list) else [sources]):
            merged.update(resolve_merge_keys(source))
    merged.update({k: v for k, v in mapping.items() if k != "<<"})
    return merged


def compose_value(value: Any) -> str | None:
    """A value as the container would see it (compose renders true as "true")."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def service_environment(service: Mapping[str, Any]) -> dict[str, str | None]:
    """A service's ``environment:`` in either form; ``None`` means taken from the host."""
    env = service.get("environment") or {}
    if isinstance(env, Mapping):
        return {str(k): compose_value(v) for k, v in resolve_merge_keys(env).items()}
    if isinstance(env, list):
        result: dict[str, str | None] = {}
        for item in env:
            name, sep, value = str(item).partition("=")
            result[name] = value if sep else None
        return result
    raise AssertionError(f"unsupported environment form: {env!r}")


def iter_services(compose: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, service in (compose.get("services") or {}).items():
        yield name, resolve_merge_keys(service or {})


def iter_kimhub_vars(compose: Mapping[str, Any]) -> Iterator[tuple[str, str, str | None]]:
    """(service, variable, value) for every KIMHUB_* variable set on any service."""
    for service_name, service in iter_services(compose):
        for var, value in service_environment(service).items():
            if var.upper().startswith(ENV_PREFIX):
                yield service_name, var, value


def settings_env_names() -> dict[str, str]:
    """``KIMHUB_<FIELD>`` -> field name, for every field of Settings."""
    return {ENV_PREFIX + field.upper(): field for field in Settings.model_fields}


def unknown_kimhub_vars(compose: Mapping[str, Any]) -> list[str]:
    """KIMHUB_* variables set in ``compose`` that no Settings field reads (sorted, unique)."""
    known = settings_env_names()
    return sorted({var for _, var, _ in iter_kimhub_vars(compose) if var.upper() not in known})


def interpolate(value: str) -> str:
    """Compose's variable substitution as if no variable were set: defaults win."""

    def replace(match: re.Match[str]) -> str:
        op, arg = match["op"], match["arg"]
        if op in (":-", "-"):
            return arg
        return ""  # ${VAR}, ${VAR:?err}, ${VAR:+alt} with VAR unset

    # `$$` is compose's escaped dollar sign; keep it out of the substitution.
    parts = value.split("$$")
    return "$".join(_INTERPOLATION.sub(replace, part) for part in parts)


def settings_errors(compose: Mapping[str, Any]) -> list[str]:
    """Each KIMHUB_* value (defaults substituted) fed to Settings alone; the failures."""
    fields = settings_env_names()
    errors: list[str] = []
    for service, var, value in iter_kimhub_vars(compose):
        field = fields.get(var.upper())
        if field is None or value is None:
            continue  # unknown vars are reported by their own test; None = from host
        rendered = interpolate(value)
        try:
            Settings(**{field: rendered})
        except ValidationError as exc:
            errors.append(f"{service}: {var}={rendered!r}: {exc.errors()[0]['msg']}")
    return errors


def command_words(service: Mapping[str, Any]) -> list[str]:
    command = service.get("command")
    if isinstance(command, str):
        return shlex.split(command)
    return [str(word) for word in command or []]


def hub_services(compose: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Services built from this repository's Dockerfile, i.e. running ``kimhub``."""
    return {name: svc for name, svc in iter_services(compose) if "build" in svc}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


# --------------------------------------------------------------------------- the file

def test_hub_services_present(compose):
    assert EXPECTED_HUB_SERVICES <= set(hub_services(compose))


def test_every_kimhub_variable_is_a_setting(compose):
    assert list(iter_kimhub_vars(compose)), "no KIMHUB_* variables found at all"
    unknown = unknown_kimhub_vars(compose)
    assert not unknown, (
        f"docker-compose.yml sets {', '.join(unknown)}, which no field of "
        "services.kernel.settings.Settings reads (typo or renamed setting?)"
    )


def test_every_hub_service_gets_the_shared_environment(compose):
    for name, service in hub_services(compose).items():
        env = service_environment(service)
        for var in ("KIMHUB_DATABASE_URL", "KIMHUB_KAFKA_BOOTSTRAP", "KIMHUB_AUTH_MODE"):
            assert env.get(var), f"{name}: {var} not set"
        # Non-empty bootstrap: no service may fall back to the embedded broker.
        assert interpolate(env["KIMHUB_KAFKA_BOOTSTRAP"]), name


def test_commands_are_cli_subcommands(compose):
    for name, service in hub_services(compose).items():
        words = command_words(service)
        assert words, f"{name}: no command (state it explicitly)"
        assert words[0] in CLI_SUBCOMMANDS, f"{name}: unknown subcommand {words[0]!r}"
        if words[0] == "serve":
            assert len(words) == 2 and words[1] in SERVE_TARGETS, (
                f"{name}: `serve` needs exactly one of {sorted(SERVE_TARGETS)}, got {words[1:]}"
            )


def test_each_service_served_once(compose):
    targets = [command_words(s)[1] for s in hub_services(compose).values()
               if command_words(s)[:1] == ["serve"]]
    assert sorted(targets) == sorted(SERVE_TARGETS)


def test_kafka_is_apache_kafka_in_kraft_mode(compose):
    services = dict(iter_services(compose))
    kafka = services["kafka"]
    image = str(kafka["image"])
    repo, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "")
    assert repo.removeprefix("docker.io/") == "apache/kafka", image
    assert tag and tag != "latest", f"pin the Kafka image tag: {image}"
    env = service_environment(kafka)
    roles = {r.strip() for r in (env.get("KAFKA_PROCESS_ROLES") or "").split(",")}
    assert roles == {"broker", "controller"}, env.get("KAFKA_PROCESS_ROLES")
    assert "KAFKA_ZOOKEEPER_CONNECT" not in env
    assert env.get("KAFKA_CONTROLLER_QUORUM_VOTERS")
    assert env.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE") == "false"


def test_kimhub_values_validate(compose):
    errors = settings_errors(compose)
    assert not errors, "invalid KIMHUB_* values:\n" + "\n".join(errors)


def long_running(compose: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The hub services proper (``kimhub serve COMPONENT``), without the one-shots."""
    return {name: svc for name, svc in hub_services(compose).items() if command_words(svc)[:1] == ["serve"]}


def test_hub_services_connect_as_the_app_role_never_the_owner(compose):
    services = dict(iter_services(compose))
    owner = service_environment(services["postgres"])["POSTGRES_USER"]
    for name, service in long_running(compose).items():
        url = interpolate(service_environment(service)["KIMHUB_DATABASE_URL"])
        user = url.split("://", 1)[1].split(":", 1)[0]
        assert user == "kimhub_app" != owner, f"{name} connects as {user}"
    # Only the migration connects as the owner; the role's grants follow it, before any service.
    migrate_user = interpolate(service_environment(services["migrate"])["KIMHUB_DATABASE_URL"]).split("://")[1]
    assert migrate_user.startswith(f"{owner}:")
    app_role = services["app-role"]
    assert command_words(app_role)[-4:] == ["-f", "/kimhub-sql/app-role.sql", "-f", "/kimhub-sql/app-role-login.sql"]
    assert "./deploy/postgres:/kimhub-sql:ro" in app_role["volumes"]
    assert app_role["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "${APP_DB_PASSWORD:?" in service_environment(app_role)["APP_DB_PASSWORD"]
    for name, service in long_running(compose).items():
        for one_shot in ("migrate", "app-role", "kafka-acls"):
            assert service["depends_on"][one_shot]["condition"] == "service_completed_successfully", name


def test_every_hub_service_authenticates_to_kafka_as_its_own_principal(compose):
    principals = {}
    for name, service in long_running(compose).items():
        env = service_environment(service)
        assert env["KIMHUB_KAFKA_SECURITY_PROTOCOL"].startswith("SASL_"), name
        assert env["KIMHUB_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512", name
        component = command_words(service)[1]
        principals[component] = env["KIMHUB_KAFKA_SASL_USERNAME"]
        assert re.fullmatch(r"\$\{KAFKA_PASSWORD_[A-Z]+:\?[^}]+\}", env["KIMHUB_KAFKA_SASL_PASSWORD"]), name
    # The names the ACLs are made for (kimhub kafka acls), one per component.
    assert principals == {c: COMPONENT_PREFIX + c for c in COMPONENTS}
    acls = dict(iter_services(compose))["kafka-acls"]
    assert command_words(acls) == ["kafka", "acls", "--apply"]
    assert service_environment(acls)["KIMHUB_KAFKA_SASL_USERNAME"] == "admin"


def test_kafka_authenticates_everyone_and_allows_nothing_without_an_acl(compose):
    kafka = dict(iter_services(compose))["kafka"]
    env = service_environment(kafka)
    pom = (ROOT / "scripts" / "testenv" / "kafka" / "pom.xml").read_text()
    assert kafka["image"] == "apache/kafka:" + re.search(r"<kafka.version>(.+)</kafka.version>", pom)[1]
    protocols = dict(item.split(":") for item in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    assert set(protocols.values()) <= {"SASL_PLAINTEXT", "SASL_SSL"}, protocols
    assert env["KAFKA_AUTHORIZER_CLASS_NAME"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert env["KAFKA_SUPER_USERS"] == "User:admin"
    assert env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    # A SCRAM user for every component, created when the storage is formatted.
    assert command_words(kafka) == ["/bin/bash", "/kimhub/scram-format.sh"]
    assert {f"SCRAM_PASSWORD_{c.upper()}" for c in ("admin", *COMPONENTS)} <= set(env)
    assert not [v for v in env if v.startswith("KAFKA_") and "PASSWORD" in v], "KAFKA_* become broker properties"


# --------------------------------------------------------------------------- the helpers

def test_helper_reports_unknown_variable():
    shared = {"KIMHUB_LOG_LEVEL": "INFO", "KIMHUB_NOPE": "1"}
    bogus = {
        "services": {
            "a": {"environment": ["KIMHUB_HTTP_PORT=8080", "KIMHUB_NOPE=1", "OTHER=x"]},
            "b": {"environment": {"<<": shared, "KIMHUB_KAFKA_BOOTSTRAP": "kafka:9092"}},
            "c": {"<<": {"environment": {"KIMHUB_ALSO_NOPE": "x"}}},
        }
    }
    assert unknown_kimhub_vars(bogus) == ["KIMHUB_ALSO_NOPE", "KIMHUB_NOPE"]
    good = {"services": {"a": {"environment": {"KIMHUB_HTTP_PORT": 8080, "PATH": "/bin"}}}}
    assert unknown_kimhub_vars(good) == []


def test_helper_reports_invalid_value():
    bad = {"services": {"a": {"environment": {
        "KIMHUB_TOPIC_PARTITIONS": "${P:-zero}", "KIMHUB_AUTH_MODE": "saml", "KIMHUB_HTTP_PORT": 80}}}}
    errors = settings_errors(bad)
    assert len(errors) == 2
    assert any("KIMHUB_TOPIC_PARTITIONS='zero'" in e for e in errors)
    assert any("KIMHUB_AUTH_MODE='saml'" in e for e in errors)


def test_interpolate():
    assert interpolate("postgresql://u:${PW:-secret}@db/x") == "postgresql://u:secret@db/x"
    assert interpolate("${A-a}${B}${C:?need C}") == "a"
    assert interpolate("$${NOT_A_VAR:-x}") == "${NOT_A_VAR:-x}"


def test_yaml_anchor_merge_is_resolved():
    doc = yaml.safe_load(
        "x-env: &env\n  KIMHUB_LOG_LEVEL: INFO\n"
        "services:\n  s:\n    environment:\n      <<: *env\n      KIMHUB_HTTP_PORT: 1\n"
    )
    assert service_environment(doc["services"]["s"]) == {"KIMHUB_LOG_LEVEL": "INFO", "KIMHUB_HTTP_PORT": "1"}

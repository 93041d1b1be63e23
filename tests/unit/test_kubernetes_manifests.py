"""deploy/kubernetes/: every manifest valid against the Kubernetes API schemas (kubernetes-validate,
offline, strict: an unknown field fails), and checked against the code it runs, like the compose
file: KIMHUB_* variables are settings with valid values, commands are ``kimhub`` subcommands,
each component runs as its own Kafka principal and as the database's app role, non-root, with
resources and probes on a port it serves."""
from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from services.kafka_acls import COMPONENT_PREFIX
from services.runtime import COMPONENTS
from services.kernel.settings import Settings
from tests.unit.test_docker_compose import CLI_SUBCOMMANDS, settings_env_names

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = sorted((ROOT / "deploy" / "kubernetes").glob("*.yaml"))
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")  # a version municipal clusters still run, and the newest known


def _documents() -> list[tuple[str, dict]]:
    return [(path.name, doc) for path in MANIFESTS for doc in yaml.safe_load_all(path.read_text()) if doc]


DOCS = _documents()


def _of_kind(kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for _, doc in DOCS if doc["kind"] == kind}


def _pod_specs() -> list[tuple[str, dict]]:
    return [(name, doc["spec"]["template"]["spec"]) for kind in ("Deployment", "Job")
            for name, doc in _of_kind(kind).items()]


def _hub_containers() -> list[tuple[str, dict]]:
    return [(f"{owner}/{c['name']}", c) for owner, spec in _pod_specs()
            for c in spec.get("initContainers", []) + spec["containers"] if "kimhub" in c["image"]]


def _deployment(component: str) -> dict:
    return _of_kind("Deployment")[f"kimhub-{component}"]


def _env(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env", [])}


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("name, doc", DOCS, ids=[f"{n}:{d['kind']}/{d['metadata']['name']}" for n, d in DOCS])
def test_every_manifest_is_valid_kubernetes(name, doc, version):
    kubernetes_validate.validate(doc, version, strict=True)


def test_kimhub_variables_are_settings_with_valid_values():
    known = settings_env_names()
    config = _of_kind("ConfigMap")["kimhub-config"]["data"]
    used = set(config) | {v for _, c in _hub_containers() for v in _env(c)}
    assert sorted(v for v in used if v.startswith("KIMHUB_") and v not in known) == []
    Settings(**{known[k]: v for k, v in config.items()})  # the shared values, all together
    for owner, container in _hub_containers():
        values = {known[k]: e["value"] for k, e in _env(container).items() if "value" in e}
        Settings(**{known[k]: v for k, v in config.items()}, **values)


def test_every_component_is_a_deployment_running_its_subcommand():
    assert {f"kimhub-{c}" for c in COMPONENTS} <= set(_of_kind("Deployment"))
    for owner, container in _hub_containers():
        assert container["args"][0] in CLI_SUBCOMMANDS, owner
    for component in COMPONENTS:
        [container] = _deployment(component)["spec"]["template"]["spec"]["containers"]
        assert container["args"] == ["serve", component]
    assert _deployment("audit")["spec"]["replicas"] == 1  # one checkpoint signer
    assert _deployment("audit")["spec"]["strategy"] == {"type": "Recreate"}


def test_each_component_is_its_own_kafka_principal_and_the_app_role():
    config = _of_kind("ConfigMap")["kimhub-config"]["data"]
    assert config["KIMHUB_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    for component in COMPONENTS:
        [container] = _deployment(component)["spec"]["template"]["spec"]["containers"]
        env = _env(container)
        assert env["KIMHUB_KAFKA_SASL_USERNAME"]["value"] == COMPONENT_PREFIX + component
        assert env["KIMHUB_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
            "name": "kimhub-kafka", "key": f"{component}-password"}
        assert env["KIMHUB_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": "kimhub-database", "key": "app-url"}
    app_url = _of_kind("Secret")["kimhub-database"]["stringData"]["app-url"]
    assert app_url.startswith("postgresql://kimhub_app:")


def test_secrets_and_config_maps_referenced_exist():
    secrets = {n: set(d["stringData"]) for n, d in _of_kind("Secret").items()}
    maps = set(_of_kind("ConfigMap"))
    for owner, spec in _pod_specs():
        for container in spec.get("initContainers", []) + spec["containers"]:
            for e in container.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["key"] in secrets.get(ref["name"], set()), f"{owner}: {ref}"
            for source in container.get("envFrom", []):
                if "secretRef" in source:  # a whole Secret as variables (the optional mail settings)
                    assert source["secretRef"]["name"] in secrets, owner
                else:
                    assert source["configMapRef"]["name"] in maps, owner
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                assert volume["configMap"]["name"] in maps, owner


def test_pods_run_non_root_read_only_with_resources():
    for owner, spec in _pod_specs():
        assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] != 0, owner
        assert spec["automountServiceAccountToken"] is False, owner
        for container in spec.get("initContainers", []) + spec["containers"]:
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False and security["readOnlyRootFilesystem"] is True
            assert security["capabilities"] == {"drop": ["ALL"]}, owner
            assert set(container["resources"]) == {"requests", "limits"}, owner
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), owner


def test_probes_use_a_port_the_process_serves():
    config = _of_kind("ConfigMap")["kimhub-config"]["data"]
    for component in COMPONENTS:
        [container] = _deployment(component)["spec"]["template"]["spec"]["containers"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        env = {k: e.get("value") for k, e in _env(container).items()}
        served = int(config["KIMHUB_HTTP_PORT"]) if component == "gateway" else int(env["KIMHUB_HEALTH_PORT"])
        for probe, path in (("livenessProbe", "/health/live"), ("readinessProbe", "/health/ready")):
            get = container[probe]["httpGet"]
            assert get["path"] == path and ports[get["port"]] == served, (component, probe)


def test_the_migrate_job_applies_the_app_role_sql_verbatim():
    sql = _of_kind("ConfigMap")["kimhub-app-role-sql"]["data"]
    for name in ("app-role.sql", "app-role-login.sql"):
        assert sql[name] == (ROOT / "deploy" / "postgres" / name).read_text(), f"{name} differs from deploy/postgres"
    spec = _of_kind("Job")["kimhub-migrate"]["spec"]["template"]["spec"]
    [migrate] = spec["initContainers"]
    assert migrate["args"] == ["migrate"]
    assert _env(migrate)["KIMHUB_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["key"] == "owner-url"
    [app_role] = spec["containers"]
    assert "-f /sql/app-role.sql -f /sql/app-role-login.sql" in app_role["command"][-1]
    acls = _of_kind("Job")["kimhub-kafka-acls"]["spec"]["template"]["spec"]["containers"][0]
    assert acls["args"] == ["kafka", "acls", "--apply"] and _env(acls)["KIMHUB_KAFKA_SASL_USERNAME"]["value"] == "admin"

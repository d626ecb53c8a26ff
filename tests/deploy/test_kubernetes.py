"""deploy/kubernetes/ mirrors compose.yaml and is valid against the Kubernetes API's schemas
(kubernetes-validate bundles them: no cluster, no network)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from tests.deploy.compose_stack import load_compose

FOLDER = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
# The oldest Kubernetes release still supported upstream when this was written.
KUBERNETES_VERSION = "1.31.0"


# The Deployments' kustomization and the migrate Job's, applied apart (docs/production.md).
KUSTOMIZATIONS = (FOLDER, FOLDER / "migrate")


def kustomization(folder: Path) -> dict:
    return yaml.safe_load((folder / "kustomization.yaml").read_text())


def documents() -> list[dict]:
    found = []
    for folder in KUSTOMIZATIONS:
        for name in kustomization(folder)["resources"]:
            found += [doc for doc in yaml.safe_load_all((folder / name).read_text()) if doc]
    return found


def by_kind(kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in documents() if doc["kind"] == kind}


def container(workload: dict) -> dict:
    [only] = workload["spec"]["template"]["spec"]["containers"]
    return only


def test_the_kustomizations_list_every_manifest():
    for folder in KUSTOMIZATIONS:
        listed = set(kustomization(folder)["resources"])
        present = {path.name for path in folder.glob("*.yaml")} - {"kustomization.yaml"}
        assert listed == present, folder


def test_the_migrate_job_is_applied_apart_with_the_same_images_and_namespace():
    # `apply -k` on a kustomization holding the Job would try to change the template of
    # the previous release's Job, which Kubernetes refuses; `apply -f` would skip the
    # registry's image name. So: its own kustomization, the images from one component.
    main, migrate = kustomization(FOLDER), kustomization(FOLDER / "migrate")
    assert "Job" not in {
        doc["kind"]
        for name in main["resources"]
        for doc in yaml.safe_load_all((FOLDER / name).read_text())
        if doc
    }
    assert main["components"] == ["images"] and migrate["components"] == ["../images"]
    assert "images" not in main and "images" not in migrate
    assert migrate["namespace"] == main["namespace"] and migrate["labels"] == main["labels"]
    images = yaml.safe_load((FOLDER / "images" / "kustomization.yaml").read_text())
    assert images["kind"] == "Component"
    assert {image["name"] for image in images["images"]} == {"visiona", "visiona-nginx"}


def test_the_documented_release_deletes_the_old_job_and_applies_the_new_one_with_kustomize():
    text = (FOLDER.parents[1] / "docs" / "production.md").read_text()
    steps = [
        "kubectl -n visiona delete job visiona-migrate --ignore-not-found",
        "kubectl apply -k deploy/kubernetes/migrate",
        "kubectl -n visiona wait --for=condition=complete job/visiona-migrate",
        "kubectl apply -k deploy/kubernetes\n",
    ]
    positions = [text.index(step) for step in steps]
    assert positions == sorted(positions)
    assert "apply -f deploy/kubernetes" not in text


@pytest.mark.parametrize(
    "document", documents(), ids=lambda d: f"{d['kind']}-{d['metadata']['name']}"
)
def test_every_manifest_is_valid_kubernetes(document):
    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_a_broken_manifest_is_refused():
    broken = by_kind("Deployment")["web"] | {"spec": {"replicas": "two"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_each_compose_role_has_its_workload_with_the_same_command():
    services = load_compose()["services"]
    deployments, jobs = by_kind("Deployment"), by_kind("Job")
    workloads = {"web": deployments["web"], "relay": deployments["relay"]}
    workloads |= {"worker": deployments["worker"], "migrate": jobs["visiona-migrate"]}
    for role, workload in workloads.items():
        assert container(workload)["args"] == services[role]["command"], role
        assert container(workload)["image"] == "visiona", role
        assert workload["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    assert container(deployments["nginx"])["image"] == "visiona-nginx"


def test_the_probes_are_the_roles_own():
    deployments = by_kind("Deployment")
    relay = container(deployments["relay"])
    assert relay["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert relay["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert container(deployments["web"])["readinessProbe"]["httpGet"]["path"] == "/healthz"
    worker = container(deployments["worker"])["livenessProbe"]["exec"]["command"]
    assert worker == ["python", "/app/deploy/healthcheck.py", "worker"]


def test_each_relay_pod_advertises_its_own_address():
    env = {item["name"]: item for item in container(by_kind("Deployment")["relay"])["env"]}
    assert env["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    assert env["RELAY_NODE_INTERNAL_URL"]["value"] == "http://$(POD_IP):3801"


def test_web_replicas_and_the_declared_instance_count_agree():
    web = by_kind("Deployment")["web"]
    env = {item["name"]: item.get("value") for item in container(web)["env"]}
    assert env["VISIONA_WEB_INSTANCES"] == str(web["spec"]["replicas"])


# nginx's values that name the cluster's services, not compose's.
CLUSTER_NAMES = {"VISIONA_RESOLVER", "VISIONA_WEB", "VISIONA_RELAY_TUNNEL"}


def test_nginx_gets_every_value_compose_gives_it():
    compose = load_compose()["services"]["nginx"]["environment"]
    env = {item["name"]: item["value"] for item in container(by_kind("Deployment")["nginx"])["env"]}
    assert set(env) == set(compose)
    for name, value in compose.items():
        if name not in CLUSTER_NAMES:
            assert env[name] == str(value), name
    # Full names: nginx's resolver uses no search domains.
    for name in CLUSTER_NAMES:
        assert env[name].split(":")[0].endswith(".cluster.local"), name


def test_web_the_worker_and_nginx_share_the_models_claim():
    claims = by_kind("PersistentVolumeClaim")
    assert claims["models"]["spec"]["accessModes"] == ["ReadWriteMany"]
    deployments = by_kind("Deployment")
    for name, path in (
        ("web", "/app/var/models"),
        ("worker", "/app/var/models"),
        ("nginx", "/srv/visiona/models"),
    ):
        spec = deployments[name]["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in spec["volumes"]}
        mounts = {m["mountPath"]: m["name"] for m in container(deployments[name])["volumeMounts"]}
        assert volumes[mounts[path]]["persistentVolumeClaim"]["claimName"] == "models", name
    nginx_env = {e["name"]: e.get("value") for e in container(deployments["nginx"])["env"]}
    assert nginx_env["VISIONA_MODELS_ROOT"] == "/srv/visiona/models"


def test_web_believes_forwarded_addresses_only_from_nginx():
    web = container(by_kind("Deployment")["web"])
    env = {item["name"]: item.get("value") for item in web["env"]}
    trusted = [ipaddress.ip_network(entry) for entry in env["TRUSTED_PROXIES"].split(",")]
    assert all(network.is_private for network in trusted)
    # Any pod could claim to be a proxy: only nginx's pods may reach web's port.
    [policy] = [
        doc
        for doc in by_kind("NetworkPolicy").values()
        if doc["spec"]["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "web"}
    ]
    [rule] = policy["spec"]["ingress"]
    assert rule["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "nginx"}}}]
    assert rule["ports"] == [{"protocol": "TCP", "port": 8000}]

"""The production stack: docker-compose.yml and the Dockerfile start commands that exist.

No container engine is involved: the files are parsed, and each command they run is traced to
the module or file it starts. Nothing here imports the project or its settings.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import shlex
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKERS = ("dispatcher", "worker-pools", "worker-markets", "worker-maintenance")
APP_SERVICES = ("migrate", "web", *WORKERS, "beat", "stream")
# The queues dashboard/settings.py declares (CELERY_TASK_QUEUES).
QUEUES = {"dispatch", "pools", "markets", "maintenance"}
INTERPOLATION = re.compile(r"\$\{([A-Z][A-Z0-9_]*)[^}]*\}")


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return compose["services"]


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, arguments = line.partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def defines(path: Path, name: str, *, call: str | None = None) -> bool:
    """Whether the module at path assigns name at top level (to a call of `call`, if given)."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name for target in node.targets
        ):
            if call is None:
                return True
            value = node.value
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
                return value.func.id == call
    return False


def major_version(image: str) -> str:
    tag = image.partition(":")[2]
    return re.split(r"[.-]", tag)[0]


def test_app_services_share_one_definition(services: dict[str, Any]) -> None:
    shared = ("build", "image", "env_file", "environment")
    reference = {key: services["migrate"].get(key) for key in shared}
    assert reference["build"] and reference["image"]
    for name in APP_SERVICES:
        assert {key: services[name].get(key) for key in shared} == reference, name


def test_migrate_runs_once_with_djangos_migrate_command(services: dict[str, Any]) -> None:
    migrate = services["migrate"]
    assert migrate["command"][:3] == ["python", "manage.py", "migrate"]
    assert "--noinput" in migrate["command"]
    # Any restart policy but "no" would rerun it forever, and its dependants wait for it to end.
    assert migrate["restart"] == "no"
    assert (ROOT / "manage.py").is_file()
    assert importlib.util.find_spec("django.core.management.commands.migrate") is not None


@pytest.mark.parametrize("name", [*WORKERS, "beat"])
def test_celery_services_start_the_dashboard_app(services: dict[str, Any], name: str) -> None:
    command = services[name]["command"]
    assert command[:4] == ["celery", "-A", "dashboard", "beat" if name == "beat" else "worker"]
    # `celery -A dashboard` settles on the `app` attribute of dashboard/celery.py.
    assert defines(ROOT / "dashboard" / "celery.py", "app", call="Celery")


def test_each_queue_has_a_worker_and_the_dispatcher_one_of_its_own(
    services: dict[str, Any],
) -> None:
    consumed: dict[str, set[str]] = {}
    for name in WORKERS:
        command = services[name]["command"]
        consumed[name] = set(command[command.index("-Q") + 1].split(","))
    assert set().union(*consumed.values()) == QUEUES
    assert consumed["dispatcher"] == {"dispatch"}
    assert consumed["worker-pools"] == {"pools"} and consumed["worker-markets"] == {"markets"}
    settings = (ROOT / "dashboard" / "settings.py").read_text()
    assert all(f'"{queue}"' in settings for queue in QUEUES)


def test_stream_runs_the_flowbtc_stream_command(services: dict[str, Any]) -> None:
    command = services["stream"]["command"]
    assert command == ["python", "manage.py", "stream", "flowbtc"]
    assert services["stream"].get("restart", "unless-stopped") == "unless-stopped"
    # `manage.py stream` is a command module defining its Command class.
    path = ROOT / "exchanges" / "management" / "commands" / "stream.py"
    assert any(isinstance(node, ast.ClassDef) and node.name == "Command"
               for node in ast.parse(path.read_text()).body)


def test_beat_keeps_its_schedule_where_the_app_user_can_write(services: dict[str, Any]) -> None:
    command = services["beat"]["command"]
    assert command[command.index("--schedule") + 1].startswith("/tmp/")


def test_web_serves_the_wsgi_app_from_the_image_command(services: dict[str, Any]) -> None:
    assert "command" not in services["web"]
    assert any(port.endswith(":8000") for port in services["web"]["ports"])
    [cmd] = [json.loads(arguments) for keyword, arguments in dockerfile() if keyword == "CMD"]
    assert cmd[0] == "gunicorn"
    assert cmd[cmd.index("--bind") + 1] == "0.0.0.0:8000"
    [target] = [arg for arg in cmd if re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*", arg)]
    module, _, attribute = target.partition(":")
    assert module == "dashboard.wsgi"
    assert defines(ROOT / "dashboard" / "wsgi.py", attribute)


def test_stores_are_the_pinned_majors_with_healthchecks(services: dict[str, Any]) -> None:
    assert services["postgres"]["image"].startswith("postgres:")
    assert major_version(services["postgres"]["image"]) == "16"
    assert services["redis"]["image"].startswith("redis:")
    assert major_version(services["redis"]["image"]) == "7"
    assert services["postgres"]["healthcheck"]["test"]
    assert services["redis"]["healthcheck"]["test"]


def test_app_services_wait_for_healthy_stores(services: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        depends_on = services[name]["depends_on"]
        for store in ("postgres", "redis"):
            assert depends_on[store]["condition"] == "service_healthy", (name, store)


@pytest.mark.parametrize("name", ["web", *WORKERS, "beat", "stream"])
def test_app_waits_for_migrations(services: dict[str, Any], name: str) -> None:
    condition = services[name]["depends_on"]["migrate"]["condition"]
    assert condition == "service_completed_successfully"


def test_urls_point_at_the_bundled_services(services: dict[str, Any]) -> None:
    environment = services["web"]["environment"]
    postgres = services["postgres"]["environment"]
    # Interpolations hold spaces and "?", which would derail URL parsing.
    database = urlsplit(INTERPOLATION.sub("x", environment["DATABASE_URL"]))
    assert database.hostname == "postgres"
    assert database.username == postgres["POSTGRES_USER"]
    assert database.path == "/" + postgres["POSTGRES_DB"]
    assert urlsplit(environment["REDIS_URL"]).hostname == "redis"


@pytest.mark.parametrize("name", ["SECRET_KEY", "FIELD_ENCRYPTION_KEYS"])
def test_compose_refuses_to_start_without_the_keys(services: dict[str, Any], name: str) -> None:
    value = services["web"]["environment"][name]
    assert re.fullmatch(r"\$\{" + name + r":\?.+\}", value), value


def test_env_example_documents_every_variable() -> None:
    example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", example, flags=re.MULTILINE))
    interpolated = set(INTERPOLATION.findall((ROOT / "docker-compose.yml").read_text()))
    read_by_settings = set(
        re.findall(r"env\.\w+\(\s*\"([A-Z][A-Z0-9_]*)\"", (ROOT / "dashboard/settings.py").read_text())
    )
    assert interpolated | read_by_settings <= documented


def test_the_image_runs_as_a_regular_user_without_the_env_file() -> None:
    users = [arguments for keyword, arguments in dockerfile() if keyword == "USER"]
    assert users and users[-1] not in {"root", "0"}
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".env" in ignored


def test_build_time_settings_pass_the_settings_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    [run] = [arguments for keyword, arguments in dockerfile()
             if keyword == "RUN" and "collectstatic" in arguments]
    values = dict(word.split("=", 1) for word in shlex.split(run) if re.match(r"[A-Z_]+=", word))
    # Loaded by path: importing the dashboard package would start its Celery app.
    spec = importlib.util.spec_from_file_location("build_config", ROOT / "dashboard" / "config.py")
    assert spec and spec.loader
    config = importlib.util.module_from_spec(spec)
    # Dataclasses look their module up in sys.modules while the class is being built.
    monkeypatch.setitem(sys.modules, spec.name, config)
    spec.loader.exec_module(config)
    env = config.Env(environ=values)
    env.secret_key("SECRET_KEY")
    env.fernet_keys("FIELD_ENCRYPTION_KEYS")
    env.database("DATABASE_URL")
    env.url("CELERY_BROKER_URL", schemes={"memory"}, required=True)
    assert env.problems == []


# The optional monitoring stack (`docker compose --profile monitoring up -d`).
MONITORING = ("prometheus", "grafana")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> the checkout's file or directory for each bind mount from it."""
    found = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("./"):
            found[target] = source
    return found


def test_monitoring_starts_only_with_its_profile(services: dict[str, Any]) -> None:
    for name, service in services.items():
        expected = ["monitoring"] if name in MONITORING else None
        assert service.get("profiles") == expected, name


@pytest.mark.parametrize("name", MONITORING)
def test_monitoring_images_are_pinned_and_listen_locally(services: dict[str, Any], name: str) -> None:
    image = services[name]["image"]
    tag = image.partition(":")[2]
    assert tag and tag != "latest" and re.search(r"\d+\.\d+\.\d+", tag), image
    for port in services[name]["ports"]:
        assert port.startswith("127.0.0.1:"), port


@pytest.mark.parametrize("name", MONITORING)
def test_monitoring_mounts_the_contrib_files(services: dict[str, Any], name: str) -> None:
    found = mounts(services[name])
    assert found
    for source in found.values():
        path = ROOT / source
        assert path.exists(), source
        assert source.startswith("./contrib/"), source


def test_prometheus_reads_the_mounted_config_and_token(compose: dict[str, Any]) -> None:
    prometheus = compose["services"]["prometheus"]
    [config_file] = [arg.split("=", 1)[1] for arg in prometheus["command"]
                     if arg.startswith("--config.file=")]
    found = mounts(prometheus)
    assert found[config_file] == "./contrib/prometheus/prometheus.yml"
    config = yaml.safe_load((ROOT / found[config_file]).read_text())
    here = Path(config_file).parent
    # Relative paths in prometheus.yml are read from the config file's directory.
    assert {str(here / rule) for rule in config["rule_files"]} <= set(found)
    [job] = config["scrape_configs"]
    [token_mount] = prometheus["configs"]
    assert str(here / job["authorization"]["credentials_file"]) == token_mount["target"]
    assert token_mount["source"] in compose["configs"]
    assert "METRICS_TOKEN" in compose["configs"][token_mount["source"]]["content"]
    # The scrape reaches the web service on the port gunicorn binds.
    assert job["static_configs"][0]["targets"] == ["web:8000"]


def test_grafana_is_provisioned_with_the_dashboard(services: dict[str, Any]) -> None:
    found = mounts(services["grafana"])
    providers_dir = ROOT / found["/etc/grafana/provisioning/dashboards"]
    [provider] = yaml.safe_load((providers_dir / "hashwatch.yml").read_text())["providers"]
    dashboards = [target for target, source in found.items() if source == "./contrib/grafana/hashwatch.json"]
    assert [str(Path(target).parent) for target in dashboards] == [provider["options"]["path"]]
    datasources_dir = ROOT / found["/etc/grafana/provisioning/datasources"]
    [datasource] = yaml.safe_load((datasources_dir / "prometheus.yml").read_text())["datasources"]
    assert urlsplit(datasource["url"]).hostname == "prometheus"
    assert urlsplit(datasource["url"]).port == 9090

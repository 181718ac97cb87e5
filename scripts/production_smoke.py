"""Start the production stack from a clean install and see one scheduled poll land.

    python scripts/production_smoke.py [--keep]

What the Dockerfile and docker-compose.yml do, without Docker: the checkout less what
.dockerignore leaves out is copied (the image's contents) and installed without extras into a
fresh virtualenv (`pip install .`), so a dependency that only the test extras bring, or a
module the image leaves out, is missing here as it would be in the image. From that virtualenv it migrates a
new database, starts the simulator, adds a source pointing at it, then runs the web server and
every Compose service's own command (worker, beat, stream) and waits until beat has dispatched
a poll, a worker has stored it, and the web server's API reports the source `ok`.

Needs DATABASE_URL and REDIS_URL (scripts/with-test-services.sh provides throwaway ones) and
PyYAML in the interpreter that runs it. Exits 0 on success, 1 with the processes' logs when
something does not come up.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from base64 import urlsafe_b64encode
from fnmatch import fnmatch
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import yaml

ROOT = Path(__file__).resolve().parent.parent
POLL_TIMEOUT = 120


class SmokeFailure(Exception):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


def compose_commands() -> dict[str, list[str]]:
    """The command of each Compose service that runs the app in the background: every service
    of the app's image with a command of its own, but the one-shot migrate."""
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    commands = {
        name: [str(part) for part in service["command"]]
        for name, service in services.items()
        if str(service.get("image", "")).startswith("hashwatch") and service.get("command")
        and name != "migrate"
    }
    if not any("beat" in command for command in commands.values()):
        raise SmokeFailure("docker-compose.yml runs no Celery beat")
    return commands


class Stack:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.venv = work / "venv"
        self.app = work / "app"
        self.processes: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
        self.env: dict[str, str] = {}

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    def install(self) -> None:
        """The image's contents (the checkout less .dockerignore), and `pip install .` of them."""
        print("--- clean install: pip install . (no extras) into a fresh virtualenv", flush=True)
        shutil.copytree(ROOT, self.app, ignore=dockerignored)
        subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True)
        subprocess.run([self.bin("pip"), "install", "--quiet", "--disable-pip-version-check", str(self.app)],
                       check=True)

    def configure(self, database_url: str, redis_url: str) -> None:
        self.env = {
            "PATH": f"{self.venv / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            # As in the image: the code runs from the copied tree, the install brings the
            # dependencies (templates and static files sit beside the packages).
            "PYTHONPATH": str(self.app),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": secrets.token_urlsafe(50),
            "FIELD_ENCRYPTION_KEYS": urlsafe_b64encode(os.urandom(32)).decode(),
            "HASHWATCH_VAR_DIR": str(self.work / "var"),
            "HOME": str(self.work),
        }

    def manage(self, *args: str) -> str:
        result = subprocess.run([self.bin("python"), "manage.py", *args], cwd=self.app, env=self.env,
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise SmokeFailure(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    def start(self, name: str, command: list[str], *, cwd: Path | None = None,
              env: dict[str, str] | None = None) -> None:
        log = self.work / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(command, cwd=cwd or self.app, env=env or self.env, stdout=out,
                                       stderr=subprocess.STDOUT)
        self.processes[name] = (process, log)

    def check_alive(self) -> None:
        for name, (process, _) in self.processes.items():
            if process.poll() is not None:
                raise SmokeFailure(f"{name} exited with status {process.returncode}")

    def stop(self) -> None:
        for process, _ in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process, _ in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()

    def print_logs(self) -> None:
        for name, (_, log) in self.processes.items():
            print(f"--- {name} log (last 40 lines)", file=sys.stderr)
            lines = log.read_text(errors="replace").splitlines()
            print("\n".join(lines[-40:]), file=sys.stderr)


def dockerignored(directory: str, names: list[str]) -> set[str]:
    """copytree's ignore: the names .dockerignore leaves out of the image's build context."""
    patterns = [line.strip().strip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    ignored = set()
    for name in names:
        relative = str((Path(directory) / name).relative_to(ROOT))
        for pattern in patterns:
            if (pattern.startswith("**/") and fnmatch(name, pattern[3:])) or fnmatch(relative, pattern):
                ignored.add(name)
    return ignored


def create_database(stack: Stack, server_url: str) -> str:
    name = f"hashwatch_smoke_{os.getpid()}"
    script = (
        "import psycopg, sys\n"
        "with psycopg.connect(sys.argv[1], autocommit=True) as c:\n"
        f"    c.execute('DROP DATABASE IF EXISTS {name}')\n"
        f"    c.execute('CREATE DATABASE {name}')\n"
    )
    subprocess.run([stack.bin("python"), "-c", script, server_url], check=True)
    return with_path(server_url, f"/{name}")


def drop_database(stack: Stack, server_url: str, database_url: str) -> None:
    name = urlsplit(database_url).path.lstrip("/")
    script = (
        "import psycopg, sys\n"
        "with psycopg.connect(sys.argv[1], autocommit=True) as c:\n"
        f"    c.execute('DROP DATABASE IF EXISTS {name} WITH (FORCE)')\n"
    )
    subprocess.run([stack.bin("python"), "-c", script, server_url], check=False)


def wait_for(check, *, timeout: float, what: str, stack: Stack):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack.check_alive()
        result = check()
        if result:
            return result
        time.sleep(1)
    raise SmokeFailure(f"timed out after {timeout:.0f} s waiting for {what}")


def http_get(url: str, token: str | None = None) -> tuple[int, bytes]:
    # Only ever the loopback servers this script started.
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


def run(stack: Stack, keep: bool) -> None:
    server_url = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    if not server_url or not redis_url:
        raise SmokeFailure("set DATABASE_URL and REDIS_URL (or run through scripts/with-test-services.sh)")
    commands = compose_commands()
    stack.install()
    # Redis database 13: the smoke's queue and cache stay apart from the tests' own.
    database_url = create_database(stack, server_url)
    stack.configure(database_url, with_path(redis_url, "/13"))
    try:
        stack.manage("migrate", "--noinput")
        stack.manage("collectstatic", "--noinput", "--verbosity", "0")
        sim_port, gateway_port, web_port = free_port(), free_port(), free_port()
        # The simulator is not part of the image: it runs from the checkout, with the
        # interpreter running this script.
        stack.start("simulator", [sys.executable, "manage.py", "simulator", "--port", str(sim_port),
                                  "--gateway-port", str(gateway_port)],
                    cwd=ROOT, env={**os.environ, **stack.env, "PATH": os.environ.get("PATH", ""),
                                   "PYTHONPATH": str(ROOT)})
        wait_for(lambda: http_get(f"http://127.0.0.1:{sim_port}/_sim/requests")[0] == 200,
                 timeout=30, what="the simulator", stack=stack)
        stack.manage("createteam", "smoke", "--name", "Smoke test")
        source_id = stack.manage(
            "sources", "add", "--team", "smoke", "--kind", "btccom", "--label", "BTC.com smoke",
            "--base-url", f"http://127.0.0.1:{sim_port}/btccom",
            "--credential", "access_key=sim-ak-alpha", "--credential", "puid=88888",
        ).strip().splitlines()[-1]
        token = stack.manage("apitoken", "create", "--team", "smoke").strip().splitlines()[-1]
        # A rule bound to fire on the first poll: the poll's signal must reach the maintenance
        # worker, whose evaluation then shows through the API.
        stack.manage("alerts", "rule", "add", "--team", "smoke", "--kind", "workers_online_below",
                     "--source", source_id, "--threshold", "1000000", "--for-minutes", "0")

        print("--- starting web, " + ", ".join(commands) + " from the clean install", flush=True)
        stack.start("web", [stack.bin("gunicorn"), "dashboard.wsgi:application",
                            "--bind", f"127.0.0.1:{web_port}", "--workers", "2"])
        for name, command in commands.items():
            if "--schedule" in command:  # beat's state file: under the smoke's own directory
                command[command.index("--schedule") + 1] = str(stack.work / "celerybeat-schedule")
            executable = stack.bin(command[0]) if (stack.venv / "bin" / command[0]).exists() else command[0]
            stack.start(name, [executable, *command[1:]])

        web = f"http://127.0.0.1:{web_port}"
        wait_for(lambda: http_get(f"{web}/healthz")[0] in (200, 503), timeout=60,
                 what="the web server", stack=stack)

        def source_ok() -> dict | None:
            status, body = http_get(f"{web}/api/v1/sources", token)
            if status != 200:
                return None
            sources = {str(s["id"]): s for s in json.loads(body)["sources"]}
            source = sources.get(source_id)
            if source and source["status"] == "error":
                raise SmokeFailure(f"the poll failed: {source['last_error']}")
            return source if source and source["status"] == "ok" else None

        source = wait_for(source_ok, timeout=POLL_TIMEOUT, stack=stack,
                          what="beat to dispatch the poll and a worker to store it")
        status, body = http_get(f"{web}/healthz")
        print(f"source {source_id}: {source['status']}, last success {source['last_success_at']}")
        print(f"healthz: {status} {body.decode()[:300]}")
        if status != 200:
            raise SmokeFailure(f"/healthz answered {status} once the poll had landed")

        def alert_firing() -> dict | None:
            status, body = http_get(f"{web}/api/v1/alerts?state=firing", token)
            results = json.loads(body)["results"] if status == 200 else []
            return results[0] if results else None

        alert = wait_for(alert_firing, timeout=POLL_TIMEOUT, stack=stack,
                         what="the poll's alert evaluation on the maintenance worker")
        print(f"alert {alert['id']}: {alert['kind']} {alert['state']} on {alert['subject']} "
              f"({alert['value']})")
        status, body = http_get(f"{web}/metrics", token)
        if status != 200 or b"hashwatch_source_up{" not in body:
            raise SmokeFailure(f"/metrics answered {status}: {body.decode()[:300]}")
        up = [line for line in body.decode().splitlines() if line.startswith("hashwatch_source_up{")]
        print(f"metrics: {up[0]}")
        if not up[0].endswith(" 1.0"):
            raise SmokeFailure(f"/metrics says the source is not up: {up[0]}")
        stack.check_alive()
        print("production smoke: passed", flush=True)
    finally:
        stack.stop()
        if not keep:
            drop_database(stack, server_url, database_url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the virtualenv and logs")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hashwatch-smoke-"))
    stack = Stack(work)
    try:
        run(stack, args.keep)
    except (SmokeFailure, subprocess.CalledProcessError) as failure:
        print(f"production smoke: FAILED: {failure}", file=sys.stderr)
        stack.print_logs()
        return 1
    finally:
        if args.keep:
            print(f"kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

# Playwright's sync API keeps an event loop running in the test thread; the ORM calls that
# tests make around it are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], object], *, timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def test_database_url() -> str:
    """The URL of the database this test session uses, for child processes."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def quickstart_env(home: Path, *, secret_key: str) -> dict[str, str]:
    """What `make demo` runs with on a machine without servers: SQLite and the filesystem
    broker under HOME/var, nothing inherited from the test run."""
    var = home / "var"
    return {
        "PATH": "/usr/bin:/bin", "HOME": str(home), "HASHWATCH_DEMO": "1",
        "HASHWATCH_VAR_DIR": str(var), "DATABASE_URL": f"sqlite:///{var / 'demo.sqlite3'}",
        "CELERY_BROKER_URL": "filesystem://", "SECRET_KEY": secret_key,
        "FIELD_ENCRYPTION_KEYS": "2SnKqDOc4Fu6dNwhiGMHxrdVjJ7qqbvb0qFBEJPFWXg=",
    }


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(extra)
    return env


@pytest.fixture
def celery_worker_process(transactional_db: None) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker on the session's Redis and the test database."""
    log = ARTIFACTS / "celery-worker.log"
    log.parent.mkdir(exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "dashboard", "worker", "--pool", "solo",
             "--loglevel", "info", "--without-gossip", "--without-mingle", "--purge"],
            cwd=settings.BASE_DIR, stdout=out, stderr=subprocess.STDOUT,
            env=child_env(DATABASE_URL=test_database_url(), HASHWATCH_PLUGINS="tests.fakes"),
        )
        try:
            wait_for(lambda: b"ready" in log.read_bytes() or process.poll() is not None,
                     timeout=60, what="the Celery worker to start")
            assert process.poll() is None, log.read_text()
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


@contextmanager
def celery_process(
    role: str, *args: str, env: dict[str, str], log_name: str
) -> Iterator[subprocess.Popen[bytes]]:
    """A real `celery -A dashboard ROLE` process, once it says it is up; stopped on exit (a
    test may have killed it already)."""
    log = ARTIFACTS / log_name
    log.parent.mkdir(exist_ok=True)
    ready = b"ready" if role == "worker" else b"beat: Starting"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "dashboard", role, "--loglevel", "info", *args],
            cwd=settings.BASE_DIR, stdout=out, stderr=subprocess.STDOUT, env=env,
        )
        try:
            wait_for(lambda: ready in log.read_bytes() or process.poll() is not None,
                     timeout=60, what=f"the Celery {role} to start")
            assert process.poll() is None, log.read_text()
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@pytest.fixture
def celery_beat_process(
    transactional_db: None, tmp_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery beat on the session's Redis, dispatching due sources every second."""
    env = child_env(DATABASE_URL=test_database_url(), POLL_DISPATCH_SECONDS="1")
    with celery_process("beat", "--schedule", str(tmp_path / "celerybeat-schedule"),
                        env=env, log_name="celery-beat.log") as process:
        yield process


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if shutil.which(CHROMIUM) or Path(CHROMIUM).exists():
        return CHROMIUM
    message = f"Chromium not found at {CHROMIUM} (Debian/Ubuntu: sudo apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def new_page(browser: object, *, width: int = 1280, scheme: str = "light") -> tuple[object, object]:
    """A context of its own (close it when done) and its page, which collects console errors."""
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    return context, page


def sign_in_page(page: object, base_url: str, username: str, password: str) -> None:
    """Submit the sign-in form; where it leads (the overview, the code step) is the caller's."""
    page.goto(f"{base_url}/accounts/login/")  # type: ignore[attr-defined]
    page.fill("#id_username", username)  # type: ignore[attr-defined]
    page.fill("#id_password", password)  # type: ignore[attr-defined]
    page.click("main button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]


@pytest.fixture
def page_for(browser, live_server) -> Iterator[Callable[..., object]]:
    """A signed-in page factory: page_for(username, password, width=1280, scheme="light")."""
    contexts = []

    def make(username: str, password: str, width: int = 1280, scheme: str = "light") -> object:
        context, page = new_page(browser, width=width, scheme=scheme)
        contexts.append(context)
        sign_in_page(page, live_server.url, username, password)
        page.wait_for_url(f"{live_server.url}/")
        return page

    yield make
    for context in contexts:
        context.close()


def screenshot(page: object, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path

"""Hashwatch settings: everything that differs between installs comes from the environment.

See README.md ("Configuration") for the variables. A missing or malformed one stops the
process at start with a message naming it and saying how to fix it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from kombu import Queue

from dashboard.config import Env

BASE_DIR = Path(__file__).resolve().parent.parent
env = Env()

DEBUG = env.boolean("DEBUG", default=False)
DEMO_MODE = env.boolean("HASHWATCH_DEMO", default=False)
SECRET_KEY = env.secret_key("SECRET_KEY")
FIELD_ENCRYPTION_KEYS = env.fernet_keys("FIELD_ENCRYPTION_KEYS")
ALLOWED_HOSTS = env.word_list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.word_list("CSRF_TRUSTED_ORIGINS", default=[])
DATABASES = {"default": env.database("DATABASE_URL")}

# Redis carries the Celery queue and the shared cache. The quick start runs without a Redis
# server: CELERY_BROKER_URL=filesystem:// and a file cache take its place.
CELERY_BROKER_URL = env.url(
    "CELERY_BROKER_URL", schemes={"redis", "rediss", "filesystem", "memory"}, required=False
)
REDIS_URL = env.url("REDIS_URL", schemes={"redis", "rediss"}, required=CELERY_BROKER_URL is None)
CELERY_BROKER_URL = CELERY_BROKER_URL or REDIS_URL
# Modules imported at start that register extra source kinds (see dashboard/sources.py).
HASHWATCH_PLUGINS = env.word_list("HASHWATCH_PLUGINS", default=[])
VAR_DIR = Path(env.raw("HASHWATCH_VAR_DIR") or BASE_DIR / "var")
if CELERY_BROKER_URL and CELERY_BROKER_URL.startswith("filesystem://"):
    broker_dir = VAR_DIR / "broker"
    for sub in ("queue", "processed", "control"):
        (broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(broker_dir / "queue"),
        "data_folder_out": str(broker_dir / "queue"),
        "processed_folder": str(broker_dir / "processed"),
        "control_folder": str(broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.boolean("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

if REDIS_URL:
    # Short socket timeouts: with Redis unreachable a page falls back to Postgres (see
    # dashboard/shared_cache.py) after a moment, instead of hanging on the connection.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": REDIS_URL, "KEY_PREFIX": "hashwatch",
                          "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(VAR_DIR / "cache")}}

env.check()

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    # Before dashboard: its sign-in receivers must run after axes has counted the attempt.
    "axes",
    "dashboard",
    "pools",
    "exchanges",
    "alerts",
    "treasury",
    "metrics",
]
# The upstream simulator (fake upstream APIs, `manage.py simulator` and `manage.py demo`) is a
# development and test tool: an install without the package runs the product all the same.
if importlib.util.find_spec("simulator") is not None:
    INSTALLED_APPS.append("simulator")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "dashboard.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "dashboard.teams.CurrentTeamMiddleware",
    "dashboard.security.TwoFactorRequiredMiddleware",
    # Last, as django-axes asks: it turns a request that hit the lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"
ASGI_APPLICATION = "dashboard.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dashboard.teams.team_context",
            ],
        },
    }
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "overview"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = env.integer("SESSION_COOKIE_AGE", default=14 * 24 * 3600, minimum=300)
SESSION_COOKIE_HTTPONLY = True
# Sessions outlive the browser on purpose: this is a dashboard left open on operators' own
# machines, and the two-week SESSION_COOKIE_AGE already bounds a forgotten session.
SESSION_EXPIRE_AT_BROWSER_CLOSE = False
# This many failed sign-ins for one username from one address within LOGIN_LOCKOUT_SECONDS
# lock that pair for LOGIN_LOCKOUT_SECONDS (`manage.py unlock USERNAME` lifts it early).
LOGIN_FAILURE_LIMIT = env.integer("LOGIN_FAILURE_LIMIT", default=5, minimum=1)
LOGIN_LOCKOUT_SECONDS = env.integer("LOGIN_LOCKOUT_SECONDS", default=15 * 60, minimum=1)
# How many reverse proxies (each adding to X-Forwarded-For) stand between the clients and the
# app. 0: the app is reached directly and the socket address is the client's. Set it only when
# every request comes through those proxies, or a client could claim any address.
TRUSTED_PROXY_COUNT = env.integer("TRUSTED_PROXY_COUNT", default=0, minimum=0)

# Sign-in lockout (django-axes): the counts live in Postgres, so they hold with Redis down and
# across restarts. A lock covers one username from one address (dashboard/auth.py).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked pair, on every login form
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
# Read from LOGIN_FAILURE_LIMIT and LOGIN_LOCKOUT_SECONDS when used, so those stay the only knobs.
AXES_FAILURE_LIMIT = "dashboard.auth.failure_limit"
AXES_COOLOFF_TIME = "dashboard.auth.lockout_period"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# A refused attempt while locked does not push the end of the lock further away.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "dashboard.auth.lockout_response"
# Sign-ins are in the team's audit log already; axes keeps only the failure counts.
AXES_DISABLE_ACCESS_LOG = True
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code", "csrfmiddlewaretoken"]
AXES_VERBOSE = False
# One resolver for the lockout and the audit log: the client seen through TRUSTED_PROXY_COUNT
# proxies, with django-ipware reading X-Forwarded-For.
AXES_CLIENT_IP_CALLABLE = "dashboard.audit.client_ip"
SESSION_COOKIE_SAMESITE = "Lax"

# Behind a TLS-terminating proxy set HTTPS=1: secure cookies, HSTS and redirects follow.
HTTPS = env.boolean("HTTPS", default=False)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # Container and load-balancer probes talk plain HTTP to the app directly, and so does a
    # Prometheus beside it (the Compose "monitoring" profile). A redirect would not keep a
    # scrape's token off the wire anyway: the first request has already carried it.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
EMAIL_BACKEND = env.raw("EMAIL_BACKEND") or "django.core.mail.backends.console.EmailBackend"

CELERY_BEAT_SCHEDULE = {
    "dispatch-due-sources": {
        "task": "dashboard.tasks.dispatch_due_sources",
        "schedule": float(env.integer("POLL_DISPATCH_SECONDS", default=15, minimum=1)),
    },
    "prune-poll-runs": {"task": "dashboard.tasks.prune_poll_runs", "schedule": 3600.0},
    "pools-rollup-and-prune": {"task": "pools.tasks.hashrate_maintain", "schedule": 300.0},
    "exchanges-prune": {"task": "exchanges.tasks.market_data_prune", "schedule": 3600.0},
    # Time-based alert rules (a for-delay running out, staleness) change with no poll to
    # announce them; messages that failed come due for their retry.
    "alerts-evaluate-all": {"task": "alerts.evaluate_all", "schedule": 60.0},
    "alerts-send-deliveries": {"task": "alerts.send_deliveries", "schedule": 30.0},
}

# How long a poll may hold its claim on a source before another worker may take over
# (a worker that died mid-poll must not block its source forever).
# The poll renews its claim every third of this while it runs, so this is how long a dead
# worker keeps its source, not a limit on a poll's length.
POLL_CLAIM_SECONDS = env.integer("POLL_CLAIM_SECONDS", default=300, minimum=3)
# A poll stops at this deadline with a clear error (requests are cut short to fit in it);
# Celery's soft and hard time limits on the poll task, a little later, are the backstop.
POLL_DEADLINE_SECONDS = env.integer("POLL_DEADLINE_SECONDS", default=240, minimum=1)
HTTP_TIMEOUT_SECONDS = env.integer("HTTP_TIMEOUT_SECONDS", default=30, minimum=1)
# "Poll now" may be pressed once per source in this many seconds.
POLL_NOW_COOLDOWN_SECONDS = env.integer("POLL_NOW_COOLDOWN_SECONDS", default=30, minimum=0)
# "Test connection" on the source forms: one fetch with a poll's request timeouts, cut off
# here as a whole (a person waits for it), and so many tests per user per minute.
CONNECTION_TEST_DEADLINE_SECONDS = env.integer("CONNECTION_TEST_DEADLINE_SECONDS", default=45,
                                               minimum=1)
CONNECTION_TESTS_PER_MINUTE = env.integer("CONNECTION_TESTS_PER_MINUTE", default=6, minimum=1)

# Queues: the dispatcher's tick never waits behind a poll, and a hanging pool never delays a
# market feed. A worker started without -Q consumes them all (small installs, the demo);
# docker-compose.yml runs one worker per queue.
CELERY_TASK_DEFAULT_QUEUE = "maintenance"
CELERY_TASK_QUEUES = [
    Queue(name, routing_key=name) for name in ("dispatch", "pools", "markets", "maintenance")
]
# Alerts evaluate in well under a second and send each channel in parallel with a timeout, so
# they share the housekeeping queue rather than delay the dispatcher's tick or a poll.
CELERY_TASK_ROUTES = ("dashboard.tasks.route_task", {"alerts.*": {"queue": "maintenance"}})
POLL_RUN_RETENTION_DAYS = env.integer("POLL_RUN_RETENTION_DAYS", default=30, minimum=1)
# Pages of older history a pool poll reads besides its recent window, until all is read.
HISTORY_PAGES_PER_POLL = env.integer("HISTORY_PAGES_PER_POLL", default=5, minimum=1)

LOG_LEVEL = (env.raw("LOG_LEVEL") or "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # urllib3 logs full request URLs at DEBUG, and some upstreams (BTC.com) take the
        # access key as a query parameter: never let those lines out.
        "urllib3": {"level": "WARNING"},
        "django.db.backends": {"level": "INFO"},
    },
}

# syntax=docker/dockerfile:1
# Production image: the same image runs the web server (default), the Celery worker and beat,
# and migrations; docker-compose.yml shows each command.
FROM python:3.11-slim

# settings.py finds templates/ and static/ beside the dashboard package, so the code must be
# imported from the source tree in /app, not from the copy `pip install .` puts in
# site-packages (that install is what brings in the dependencies).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WEB_CONCURRENCY=3

RUN useradd --create-home --uid 10001 hashwatch

WORKDIR /app
COPY . .
RUN --mount=type=cache,target=/root/.cache/pip pip install .

# Settings refuse to load without their required variables, so collectstatic gets throwaway
# values that exist only for this command and never reach the running containers.
RUN SECRET_KEY=build-only-collectstatic-not-a-real-secret \
    FIELD_ENCRYPTION_KEYS=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    CELERY_BROKER_URL=memory:// \
    python manage.py collectstatic --noinput

# The quick-start modes (filesystem broker, file cache) write under HASHWATCH_VAR_DIR.
RUN mkdir -p /app/var && chown hashwatch:hashwatch /app/var

USER hashwatch
EXPOSE 8000

# gunicorn reads its worker count from WEB_CONCURRENCY. Its heartbeat files go to /dev/shm
# because a container's overlay filesystem can stall them long enough to kill healthy workers.
CMD ["gunicorn", "dashboard.wsgi:application", "--bind", "0.0.0.0:8000", \
     "--worker-tmp-dir", "/dev/shm", "--access-logfile", "-"]

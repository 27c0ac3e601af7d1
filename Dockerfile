# Boxoffice: one image for `boxoffice serve`, `boxoffice worker` and `boxoffice migrate`
# (docs/deploy.md, "Container").
#   docker build -t boxoffice .
#   docker run --rm --env-file boxoffice.env boxoffice boxoffice migrate
#   docker run -d --env-file boxoffice.env -p 127.0.0.1:8000:8000 boxoffice
#   docker run -d --env-file boxoffice.env --no-healthcheck boxoffice boxoffice worker
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The package and what running needs; never the test extras. The Alembic scripts
# (migrations/, linked into the package as src/boxoffice/_migrations) go into the wheel.
WORKDIR /build
COPY pyproject.toml ./
COPY src ./src
COPY migrations ./migrations
RUN pip install . && cd / && rm -rf /build

# A user of its own; its home is the working directory (the default SQLite file and
# BOXOFFICE_MAIL_DIR's ./outbox-mail land there when nothing else is configured).
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/boxoffice --create-home \
        --shell /usr/sbin/nologin boxoffice
USER boxoffice
WORKDIR /var/lib/boxoffice

EXPOSE 8000
# /healthz answers 200 while the server process serves (it does not ask the database).
# A `boxoffice worker` container serves no HTTP: run it with --no-healthcheck.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('BOXOFFICE_PORT', '8000'), timeout=4).status == 200 else 1)"]

CMD ["boxoffice", "serve", "--host", "0.0.0.0"]

# syntax=docker/dockerfile:1
# Two stages: the first builds the wheel (which carries the migrations, app/_alembic), the
# second installs the hash-pinned dependencies and that wheel; no source tree at run time.
FROM python:3.11-slim AS wheel
WORKDIR /src
COPY pyproject.toml setup.py README.md LICENSE alembic.ini ./
COPY migrations ./migrations
COPY app ./app
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    MEDIASTUDIO_DATA_DIR=/data \
    MEDIASTUDIO_HOST=0.0.0.0 \
    MEDIASTUDIO_PORT=8000 \
    MALLOC_MMAP_THRESHOLD_=268435456 \
    MALLOC_TRIM_THRESHOLD_=268435456

# Live ingest (the Producer): Debian's nginx with its RTMP and stream modules; `mediastudio
# serve` runs nginx itself with a config it generates (no system nginx service).
RUN apt-get update \
    && apt-get install -y --no-install-recommends nginx libnginx-mod-rtmp libnginx-mod-stream \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, from the hash-pinned lock, so a source change does not reinstall them.
COPY requirements/runtime.lock /tmp/runtime.lock
RUN pip install --require-hashes -r /tmp/runtime.lock && rm /tmp/runtime.lock
COPY --from=wheel /dist/ /tmp/dist/
RUN pip install --no-deps /tmp/dist/mediastudio-*.whl && rm -r /tmp/dist \
    && useradd --create-home --uid 10001 mediastudio \
    && mkdir -p /data && chown mediastudio /data

USER mediastudio
WORKDIR /home/mediastudio
VOLUME ["/data"]
EXPOSE 8000 1935 1936
# Ready = database reachable, schema at head, storage writable (/readyz); the slim image
# has no curl, so Python's urllib asks (an HTTP error status raises: unhealthy).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('MEDIASTUDIO_PORT', '8000') + '/readyz', timeout=4)"]
# `mediastudio serve` migrates a database that is behind before it serves; with several
# replicas run `mediastudio migrate` once first and serve with `--no-migrate` (compose.yaml's
# `migrate` and `api`), so they never race to migrate. `mediastudio worker` (jobs and the
# sweeper) never migrates.
CMD ["mediastudio", "serve", "--host", "0.0.0.0", "--port", "8000"]

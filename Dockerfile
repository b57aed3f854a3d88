# syntax=docker/dockerfile:1
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    MEDIASTUDIO_DATA_DIR=/data \
    MEDIASTUDIO_HOST=0.0.0.0 \
    MALLOC_MMAP_THRESHOLD_=268435456 \
    MALLOC_TRIM_THRESHOLD_=268435456

WORKDIR /srv
# Dependencies first, from the hash-pinned lock, so a source change does not reinstall them.
COPY requirements/runtime.lock ./requirements/
RUN pip install --require-hashes -r requirements/runtime.lock

COPY pyproject.toml README.md alembic.ini ./
COPY migrations ./migrations
COPY app ./app
RUN pip install --no-deps -e . \
    && useradd --create-home --uid 10001 mediastudio \
    && mkdir -p /data && chown mediastudio /data

USER mediastudio
VOLUME ["/data"]
EXPOSE 8000
# `mediastudio serve` applies migrations first (run `mediastudio migrate` separately when
# several replicas start at once) and applies the process tuning (app/serve.py).
CMD ["mediastudio", "serve", "--host", "0.0.0.0", "--port", "8000"]

# syntax=docker/dockerfile:1
# Maestro's image: the `maestro` command (serve, migrate, worker, agent).
#
#   docker build -t maestro .
#   docker run --rm maestro --help
#
# Two stages: uv builds the locked environment (runtime dependencies only, the
# project installed as a wheel, bytecode compiled), and the runtime stage
# copies that environment onto a clean Python image and runs it as an
# unprivileged user. Nothing is written under / at run time (bytecode is
# precompiled), so the container runs with a read-only root filesystem given
# a writable /tmp and /data (the data dir: embedded store, local blobs, MLflow
# fallback store), as docker-compose.yml and k8s/ do.

ARG PYTHON_VERSION=3.11
# The uv the Makefile pins.
ARG UV_VERSION=0.13.8

FROM ghcr.io/astral-sh/uv:${UV_VERSION} AS uv

FROM python:${PYTHON_VERSION}-slim-bookworm AS build
COPY --from=uv /uv /uvx /bin/
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# Dependencies first, from the lock alone: this layer is reused until
# uv.lock or pyproject.toml change.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project
# Then the project itself, installed as a wheel (not editable), so the
# runtime stage needs none of the sources.
COPY README.md ./
COPY generated ./generated
COPY workers ./workers
COPY maestro_grpc ./maestro_grpc
COPY clients/python/maestro_client ./clients/python/maestro_client
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable \
 && /app/.venv/bin/maestro --help >/dev/null

FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
LABEL org.opencontainers.image.title="maestro" \
      org.opencontainers.image.description="Maestro gRPC service: registry, metrics and prediction of ML projects" \
      org.opencontainers.image.licenses="Apache-2.0"
# A fixed numeric uid/gid, so that Kubernetes' runAsNonRoot can check it and
# volumes can be given to it (fsGroup).
RUN groupadd --system --gid 10001 maestro \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin maestro \
 && mkdir -p /data \
 && chown 10001:10001 /data
COPY --from=build /app/.venv /app/.venv
ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/data \
    MAESTRO_DATA_DIR=/data
WORKDIR /data
USER 10001:10001
# gRPC, and the Prometheus metrics of the server (MAESTRO_METRICS_PORT), the
# metrics worker (MAESTRO_METRICS_WORKER_PORT) and the indexer
# (MAESTRO_INDEXER_METRICS_PORT): one image runs each.
EXPOSE 50051 9464 9465 9466
ENTRYPOINT ["maestro"]
CMD ["serve"]

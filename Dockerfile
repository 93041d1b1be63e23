# kimhub hub image: one image, every service. Pick the service with the command, e.g.
#   docker run kimhub serve gate      |  docker run kimhub migrate
# Production-shaped: no `embedded` extra, so it needs an external Kafka
# (KIMHUB_KAFKA_BOOTSTRAP) and, normally, PostgreSQL (KIMHUB_DATABASE_URL).

# ---- assets: the browser assets the hub serves itself (package.json), no CDN ------
FROM node:20-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts \
 && mkdir -p /opt/kimhub/node_modules/redoc \
 && cp -r node_modules/swagger-ui-dist /opt/kimhub/node_modules/ \
 && cp -r node_modules/redoc/bundles /opt/kimhub/node_modules/redoc/ \
 && mkdir -p /opt/kimhub/node_modules/@kern-ux/native /opt/kimhub/node_modules/htmx.org \
 && cp -r node_modules/@kern-ux/native/dist /opt/kimhub/node_modules/@kern-ux/native/ \
 && cp -r node_modules/htmx.org/dist /opt/kimhub/node_modules/htmx.org/

# ---- build: install the package and its dependencies into a virtualenv ----------
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:${PATH}"

WORKDIR /src
# Only what the wheel is built from (no tests, no local .venv). `README*` is a
# wildcard so a missing README does not break the build (pyproject names it).
COPY pyproject.toml README* ./
COPY contracts ./contracts
COPY services ./services
COPY gateway ./gateway
RUN pip install . \
 && find /opt/venv -name '__pycache__' -type d -prune -exec rm -rf {} +

# ---- runtime ---------------------------------------------------------------------
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH="/opt/venv/bin:${PATH}" \
    KIMHUB_DATA_DIR=/var/lib/kimhub \
    KIMHUB_HTTP_HOST=0.0.0.0 \
    KIMHUB_HTTP_PORT=8080 \
    KIMHUB_NODE_MODULES=/opt/kimhub/node_modules

RUN groupadd --system --gid 10001 kimhub \
 && useradd --system --uid 10001 --gid kimhub --home-dir /var/lib/kimhub \
        --no-create-home --shell /usr/sbin/nologin kimhub \
 && mkdir -p /var/lib/kimhub \
 && chown kimhub:kimhub /var/lib/kimhub

COPY --from=build /opt/venv /opt/venv
COPY --from=assets /opt/kimhub /opt/kimhub

WORKDIR /var/lib/kimhub
# Numeric so that runAsNonRoot-style checks can verify it without /etc/passwd.
USER 10001:10001

EXPOSE 8080
ENTRYPOINT ["kimhub"]
CMD ["serve", "gateway"]

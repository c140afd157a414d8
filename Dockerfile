# The consultation bot in one image: `consultation-bot run` (long polling, SQLite in /app/data) by default,
# `consultation-bot run --webhook` behind an HTTPS proxy (deploy/docker-compose.yml). See README "Deploying".

# Build the project's own wheel in a throwaway stage, so no source tree is left in the image.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY conversations ./conversations
COPY storage ./storage
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# The runtime dependencies come from PyPI as wheels (psycopg brings its own libpq): no compiler, no dev extra.
COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels

# A dedicated user without a login; it owns /app/data, where the default DATABASE_URL
# (sqlite:///data/consultation.db, relative to the working directory /app) keeps the answers.
RUN groupadd --system --gid 10001 bot \
    && useradd --system --uid 10001 --gid bot --home-dir /app --no-create-home --shell /usr/sbin/nologin bot \
    && mkdir -p /app/data \
    && chown bot:bot /app/data \
    && chmod 0700 /app/data
WORKDIR /app
USER bot
VOLUME /app/data

# Webhook mode listens here (WEBHOOK_PORT=8080, WEBHOOK_LISTEN=0.0.0.0 inside a container).
EXPOSE 8080
# The bot drains on SIGTERM: steps in progress finish and are committed before it exits.
STOPSIGNAL SIGTERM

# Webhook mode (WEBHOOK_PORT set): healthy when GET /healthz answers 200, that is when the database is reachable.
# Long polling (WEBHOOK_PORT not set): there is no HTTP server to ask, so this passes and the container's own
# life is the check: the bot is PID 1, and if it exits the container stops and its restart policy applies.
# python's urllib, because the slim image has no curl; any error or a 503 exits 1 (unhealthy).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('WEBHOOK_PORT', '').strip(); sys.exit(0 if not port else 0 if urllib.request.urlopen('http://127.0.0.1:%s/healthz' % port, timeout=4).status == 200 else 1)"]

CMD ["consultation-bot", "run"]

# syntax=docker/dockerfile:1
# chat_web: one image for the app (`scripts/serve.sh`, the default) and the mail worker
# (`python -m mailer`). The build stage runs the same scripts as CI (scripts/build.sh); the
# runtime stage carries the virtualenv, the code and the built frontend, nothing else.

ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

# --- build: Python packages and the production frontend --------------------------------------
FROM ${PYTHON_IMAGE} AS build
# npm brings bun (Reflex's JavaScript runtime) from the npm registry, as on a developer machine.
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV REQUIREMENTS=requirements-app.txt REFLEX_TELEMETRY_ENABLED=false
# Packages first: this layer is rebuilt only when the requirements change.
COPY requirements.txt requirements-app.txt ./
# setup.sh also installs the emoji font from the npm registry; emoji_font.py puts it in assets/.
COPY scripts/setup.sh scripts/emoji_font.py scripts/
RUN bash -c '. scripts/setup.sh'
COPY . .
RUN bash scripts/build.sh

# --- runtime -----------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    REFLEX_ENV_MODE=prod \
    REFLEX_TELEMETRY_ENABLED=false \
    DATA_DIR=/data \
    REFLEX_STATES_WORKDIR=/tmp/reflex-states \
    PORT=3000
RUN useradd --system --uid 10001 --gid 0 --home-dir /nonexistent --shell /usr/sbin/nologin chat \
 && mkdir /data && chown 10001:0 /data
WORKDIR /app
COPY --from=build /app/.venv /app/.venv
COPY --from=build /app/.web/build/client /app/.web/build/client
COPY --from=build /app/chat_web /app/chat_web
COPY --from=build /app/mailer /app/mailer
COPY --from=build /app/assets /app/assets
COPY --from=build /app/rxconfig.py /app/pyproject.toml /app/
COPY --from=build /app/scripts/serve.sh /app/scripts/serve.sh
USER 10001
# SQLite, the development outbox and local uploads live here (with PostgreSQL or MongoDB and
# Redis configured, the app keeps nothing in it that matters).
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/api/v1/health' % os.environ.get('PORT', '3000'), timeout=4)"]
# Every setting comes from the environment (README: Configuration); the app refuses to start
# on an unsafe or malformed one, with one line naming it.
CMD ["bash", "scripts/serve.sh"]

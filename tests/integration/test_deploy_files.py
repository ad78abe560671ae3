"""The deploy files that CI can check without a Docker engine (see README: Deploy)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import need_service

ROOT = Path(__file__).resolve().parents[2]


def test_the_caddyfile_is_valid_and_balances_the_upstreams():
    need_service("Caddy", shutil.which("caddy") is not None, "apt-get install caddy")
    env = {**os.environ, "UPSTREAMS": "127.0.0.1:3001 127.0.0.1:3002", "SITE": ":8080"}
    adapted = subprocess.run(
        ["caddy", "adapt", "--config", "deploy/Caddyfile", "--adapter", "caddyfile"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert adapted.returncode == 0, adapted.stderr
    assert '"dial":"127.0.0.1:3001"' in adapted.stdout and '"dial":"127.0.0.1:3002"' in adapted.stdout
    assert '"uri":"/api/v1/ready"' in adapted.stdout
    assert '"path":["/metrics"]' in adapted.stdout


def test_compose_runs_two_instances_the_worker_and_every_service_from_one_image():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"app1", "app2", "mailer", "proxy", "postgres", "redis", "rabbitmq"} <= set(services)
    for name in ("app1", "app2", "mailer"):
        assert services[name]["build"] == "." and services[name]["image"] == "chat-web:local"
        env = services[name]["environment"]
        assert env["REDIS_URL"].startswith("redis://") and env["RABBITMQ_URL"].startswith("amqp://")
    assert services["mailer"]["command"] == ["python", "-m", "mailer"]
    assert services["proxy"]["environment"]["UPSTREAMS"] == "app1:3000 app2:3000"


@pytest.mark.parametrize("copied", ["chat_web", "mailer", "assets", "rxconfig.py", "scripts/serve.sh"])
def test_the_image_copies_what_the_runtime_needs_and_ignores_local_state(copied):
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"/app/{copied}" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".web", "data", ".env", ".tools"} <= set(ignored)

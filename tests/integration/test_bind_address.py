"""The development server listens on loopback unless told otherwise, and refuses the public
development secret on any other address (issue 18, item 15)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chat_web.config import DEV_JWT_SECRET, ConfigError, Settings, is_loopback

ROOT = Path(__file__).resolve().parents[2]
HOST_OF_CONFIG = "import rxconfig; print(rxconfig.config.backend_host)"
ROUTES = "import chat_web.chat_web as m; print(sorted(m.app._unevaluated_pages))"


def run(tmp_path, code: str, **env) -> subprocess.CompletedProcess:
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in {"REFLEX_BACKEND_HOST", "JWT_SECRET", "REFLEX_ENV_MODE"}
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**environ, "DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.0.5", True), ("::1", True), ("[::1]", True), ("localhost", True),
     ("0.0.0.0", False), ("::", False), ("10.0.0.5", False), ("chat.example.com", False)],
)  # fmt: skip
def test_what_counts_as_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_the_development_secret_is_refused_beyond_loopback_only():
    dev = Settings(_env_file=None, REFLEX_ENV_MODE="dev")
    assert dev.jwt_secret.get_secret_value() == DEV_JWT_SECRET
    dev.check_bind("127.0.0.1")
    with pytest.raises(ConfigError, match="public development JWT_SECRET"):
        dev.check_bind("0.0.0.0")
    # A secret of one's own may listen anywhere; production checks its secret elsewhere.
    Settings(_env_file=None, REFLEX_ENV_MODE="dev", jwt_secret="s" * 40).check_bind("0.0.0.0")
    Settings(_env_file=None, REFLEX_ENV_MODE="prod", jwt_secret="s" * 40).check_bind("0.0.0.0")


def test_reflex_run_listens_on_loopback_unless_told_otherwise(tmp_path):
    assert run(tmp_path, HOST_OF_CONFIG).stdout.strip() == "127.0.0.1"
    assert run(tmp_path, HOST_OF_CONFIG, REFLEX_BACKEND_HOST="0.0.0.0").stdout.strip() == "0.0.0.0"


def test_the_app_refuses_to_serve_the_public_secret_on_every_interface(tmp_path):
    refused = run(tmp_path, ROUTES, REFLEX_BACKEND_HOST="0.0.0.0")
    assert refused.returncode == 1
    assert "listen on 0.0.0.0 with the public development JWT_SECRET" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert run(tmp_path, ROUTES).returncode == 0  # loopback, the default
    own_secret = run(tmp_path, ROUTES, REFLEX_BACKEND_HOST="0.0.0.0", JWT_SECRET="s" * 40)
    assert own_secret.returncode == 0, own_secret.stderr

"""`python -m chat_web.serve` (scripts/serve.sh): the built app in Reflex production mode on one port.

What `reflex run --env prod` does, minus its compile and frontend build at every start:
the frontend was built once (scripts/build.sh, at image build time), so a container starts
in seconds, with no JavaScript toolchain, from a read-only image. The pages, the websocket,
the REST API and /metrics share PORT; Reflex's own Granian runner serves them (worker
count, graceful SIGTERM).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from reflex_base import constants
from reflex_base.config import get_config
from reflex_base.environment import environment

ROOT = Path(__file__).resolve().parents[1]
BUILT = ROOT / ".web" / "build" / "client" / "index.html"


def fresh_metrics_dir() -> str:
    """Where every worker keeps its metrics (cleared: figures of an earlier run would add up)."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="chat-metrics-")
    shutil.rmtree(folder, ignore_errors=True)
    Path(folder).mkdir(parents=True, exist_ok=True)
    return folder


def main() -> None:
    os.chdir(ROOT)
    environment.REFLEX_ENV_MODE.set(constants.Env.PROD)
    environment.REFLEX_SKIP_COMPILE.set(True)
    # Set before the app (and prometheus_client) is imported by the server and its workers.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = fresh_metrics_dir()

    from chat_web.config import EVERY_INTERFACE, get_settings, refuse_to_start

    settings = get_settings()  # a malformed setting stops here, with one line naming it
    if not BUILT.exists():
        refuse_to_start(
            f"no production build in {BUILT.parent}; run scripts/build.sh first.", production=True
        )
    if settings.log_format == "json":
        environment.REFLEX_LOG_JSON.set(True)  # Granian's own lines as JSON too

    from reflex.utils import exec as reflex_exec

    config = get_config()
    # Every interface unless REFLEX_BACKEND_HOST says otherwise (rxconfig's loopback default is
    # for `reflex run`, which signs with the public development secret).
    host = settings.backend_host or EVERY_INTERFACE
    print(f"chat_web: serving the production build on {host}:{settings.port}", flush=True)
    reflex_exec.run_backend_prod(
        host,
        settings.port,
        config.loglevel.subprocess_level(),
        mount_frontend_compiled_app=True,
    )


if __name__ == "__main__":
    sys.exit(main())

"""The gauges read what the composition root registers; metrics never import the container."""

from __future__ import annotations

import subprocess
import sys

from prometheus_client import REGISTRY

from chat_web import container
from chat_web.config import Settings
from chat_web.metrics.gauges import refresh_gauges


def connected_tabs() -> float | None:
    refresh_gauges()
    return REGISTRY.get_sample_value("chat_connected_tabs")


def test_the_metrics_modules_do_not_import_the_container():
    script = "import sys, chat_web.metrics.gauges; print('chat_web.container' in sys.modules)"
    imported = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
    )
    assert imported.stdout.strip() == "False"


async def test_the_running_container_registers_the_tab_count_and_takes_it_away(tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path)
    assert connected_tabs() == 0
    async with container.running(settings) as running:
        assert connected_tabs() == 0
        await running.live.attach("tab-1", "someone", wait=1)
        assert connected_tabs() == 1
    assert connected_tabs() == 0  # no container: nothing counted

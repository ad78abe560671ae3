"""Schemathesis against our own OpenAPI document: every route, a signed-in user, a real server.

It must find no 5xx, no answer outside the documented schema (status, content type, headers,
body), no accepted invalid input and no crash, on SQLite and on PostgreSQL. The examples per
route are bounded here (FUZZ_EXAMPLES, default 10); `scripts/fuzz-api.sh` runs it far longer.
"""

from __future__ import annotations

import os

import pytest

from tests.support.fuzz import run_all, running_target

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_api_survives_fuzzing(request, backend, tmp_path):
    database_url = request.getfixturevalue("postgres_url") if backend == "postgresql" else ""
    with running_target(tmp_path, database_url) as target:
        results = run_all(target, EXAMPLES)
        log = (tmp_path / "api-server.log").read_text()
    for name, result in results:
        assert result.returncode == 0, f"{name}:\n{result.stdout[-8000:]}\n{result.stderr[-2000:]}"
        assert "API Operations" in result.stdout  # it ran, and said what it tested
    assert "Traceback" not in log, log[-4000:]

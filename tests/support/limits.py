"""Abuse limits lifted, for tests and benchmarks whose many users all come from 127.0.0.1."""

from __future__ import annotations

from chat_web.config import Settings

LIFTED_LIMITS: dict[str, int] = {name: 10**9 for name in Settings.model_fields if name.startswith("limit_")}


def lifted_limits_env() -> dict[str, str]:
    """The same as environment variables, for an app started as a subprocess."""
    return {name.upper(): str(value) for name, value in LIFTED_LIMITS.items()}

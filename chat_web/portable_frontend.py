"""A Reflex plugin that lets one production build serve any host, port and scheme.

Reflex bakes the backend URL into the frontend build (`api_url`). The frontend replaces a
"localhost" host with the page's own, but keeps the baked port (and over HTTPS drops it),
so an image built once would only work on the port it was built for. In production the
pages, the websocket and the API share one port, so this plugin makes the production
frontend use the page's own origin for all three, and sets the session cookie `Secure`
whenever the page was served over HTTPS.

It edits Reflex's frontend runtime (`.web/utils/state.js`) through the plugin API's
modify task, in two places it finds by their text; if a Reflex upgrade moves them, the
compile stops with a message instead of shipping a frontend that silently misses.
"""

from __future__ import annotations

from reflex_base.environment import environment
from reflex_base.plugins.base import Plugin

STATE_JS = "utils/state.js"
FLAG = "CHAT_WEB_SAME_ORIGIN"  # in env.json: true for production builds
MARK = "/* chat_web portable frontend */"

_BACKEND_ANCHOR = "  const endpoint = new URL(url_str);\n"
_SAME_ORIGIN = f"""{_BACKEND_ANCHOR}  {MARK}
  if (typeof window !== "undefined" && env.{FLAG}) {{
    // Production: the backend is the page's own origin, whatever host, port and scheme.
    const secure = window.location.protocol === "https:";
    if (endpoint.protocol === "ws:" || endpoint.protocol === "wss:") {{
      endpoint.protocol = secure ? "wss:" : "ws:";
    }} else {{
      endpoint.protocol = window.location.protocol;
    }}
    endpoint.host = window.location.host;
    return endpoint;
  }}
"""
_COOKIE_ANCHOR = "        delete cookie_options.name; // name is not a valid cookie option\n"
_SECURE_COOKIE = f"""{_COOKIE_ANCHOR}        {MARK}
        if (cookie_options.secure == null && window.location.protocol === "https:") {{
          cookie_options.secure = true; // a cookie set over HTTPS never travels over plain HTTP
        }}
"""


def patch_state_js(source: str) -> str:
    """state.js with both edits (idempotent: a patched file comes back unchanged)."""
    if MARK in source:
        return source
    for anchor in (_BACKEND_ANCHOR, _COOKIE_ANCHOR):
        if source.count(anchor) != 1:
            raise RuntimeError(
                f"chat_web.portable_frontend: Reflex's {STATE_JS} changed ({anchor.strip()!r} not found "
                "once); update the plugin for this Reflex version."
            )
    return source.replace(_BACKEND_ANCHOR, _SAME_ORIGIN).replace(_COOKIE_ANCHOR, _SECURE_COOKIE)


def is_production_build() -> bool:
    return environment.REFLEX_ENV_MODE.get().value != "dev"


class PortableFrontend(Plugin):
    def pre_compile(self, **context) -> None:
        context["add_modify_task"](STATE_JS, patch_state_js)

    def update_env_json(self, **context) -> dict[str, object]:
        # Written on every run, so a development run after a production build goes back to
        # Reflex's own behaviour (separate frontend and backend ports).
        return {FLAG: is_production_build()}

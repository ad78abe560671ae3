"""Reflex configuration; every value comes from chat_web.config.Settings."""

import os

import reflex as rx

from chat_web.config import LOOPBACK, ConfigError, load_settings, refuse_to_start
from chat_web.granian_limits import allow_open_requests
from chat_web.portable_frontend import PortableFrontend
from chat_web.pwa import InstallableApp

try:
    _settings = load_settings()
except ConfigError as exc:
    # Reflex reads this file first: a malformed setting stops here with one line, no traceback.
    refuse_to_start(str(exc))

# The backend hot-reloads on any file change below the project; the database and the
# outbox under DATA_DIR change on every request, which would restart it in a loop.
_settings.data_dir.mkdir(parents=True, exist_ok=True)
os.environ.setdefault("REFLEX_HOT_RELOAD_EXCLUDE_PATHS", str(_settings.data_dir.absolute()))

# Every websocket message is read whole into memory before any check: no larger than the
# largest legal event (chat_web.config: SOCKET_MAX_EVENT_BYTES).
os.environ.setdefault("REFLEX_SOCKET_MAX_HTTP_BUFFER_SIZE", str(_settings.socket_max_event_bytes))

# The socket's heartbeat: the server pings every 5 s and the browser gives up on a link that
# has not pinged for 5 s more, so a silent drop (Wi-Fi gone, a tunnel, the socket still
# "open") shows the offline banner within 10 s, and the server lets the tab go as soon
# (Reflex's defaults, 25 + 120 s, left a dead tab looking online for over two minutes).
os.environ.setdefault("REFLEX_SOCKET_INTERVAL", "5s")
os.environ.setdefault("REFLEX_SOCKET_TIMEOUT", "5s")

# `reflex run --env prod` and scripts/serve.sh start Granian from this process.
allow_open_requests(_settings.open_requests_per_worker)

_redis_url = _settings.redis_url.get_secret_value()
if _redis_url:
    # With Redis, each event and each live update would lock, load and store the tab's
    # state in Redis. A tab's events all reach the process holding its socket, so that
    # process may keep the lock and the state in memory until another one asks for it
    # (it then lets go at once). A short lease made every tab flush and re-lock every 5 s,
    # in bursts that were most of the live p99: leases last 10-20 s now, spread at random
    # (chat_web/state/guard.py), under a 40 s lock. The 20 s between is room for a busy
    # event loop to write the state back before the lock expires (with 5 s, overload lost
    # writes). The price: a tab whose process died waits up to 40 s for its state elsewhere.
    os.environ.setdefault("REFLEX_OPLOCK_ENABLED", "true")
    os.environ.setdefault("REFLEX_OPLOCK_HOLD_TIME", "20s")
    os.environ.setdefault("REFLEX_REDIS_LOCK_EXPIRATION", "40000")

config = rx.Config(
    app_name="chat_web",
    # Handing REDIS_URL to Reflex switches its state manager to Redis, so several
    # app processes can serve the same sessions.
    redis_url=_redis_url or None,
    # The API's CORS and the websocket's allowed origins (chat_web.web_origins narrows an
    # empty list to the app's own origin).
    cors_allowed_origins=list(_settings.allowed_origins),
    trusted_proxy_hops=_settings.trusted_proxy_hops,
    # `reflex run` listens on loopback: development signs sessions with a public secret. Set
    # REFLEX_BACKEND_HOST to listen elsewhere (the app then wants a JWT_SECRET of its own);
    # scripts/serve.sh picks its own address (chat_web/serve.py).
    backend_host=_settings.backend_host or LOOPBACK,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[
        rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="large")),
        PortableFrontend(),
        InstallableApp(),  # stamps the production build's service worker (chat_web/pwa.py)
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
)

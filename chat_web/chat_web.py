"""The Reflex app: pages, the REST API in front, and the lifespan that owns every client."""

from __future__ import annotations

import contextlib
import gc
import logging

import reflex as rx
from reflex_base.config import get_config
from starlette.types import ASGIApp

from chat_web import container, gc_watch
from chat_web.api.app import create_api
from chat_web.components.offline import offline_banner
from chat_web.config import ConfigError, Settings, get_settings, refuse_to_start
from chat_web.instance_lock import only_process
from chat_web.logs import configure_logging
from chat_web.metrics.gauges import gauges_kept_fresh
from chat_web.pages.chat import chat_page
from chat_web.pages.login import login_page
from chat_web.pages.not_found import not_found_page
from chat_web.pages.outbox import outbox_page
from chat_web.pages.profile import profile_page
from chat_web.pages.verify import verify_page
from chat_web.pwa import head_components
from chat_web.state.auth import AuthState
from chat_web.state.chat import ChatState
from chat_web.state.guard import guard
from chat_web.state.live import ReflexTabs
from chat_web.state.outbox import OutboxState
from chat_web.state.profile import ProfileState
from chat_web.state.session import SessionState
from chat_web.web_origins import same_origin_sockets

log = logging.getLogger("chat_web")


def _settings_or_exit() -> Settings:
    """The settings, checked; a setup that cannot run stops here, before anything is served,
    with one line naming the variable and no traceback."""
    settings = get_settings()
    # A production build (`reflex export`, scripts/build.sh) compiles the pages only: the
    # secrets and services of wherever it will run are not known yet.
    if settings.compile_context != "export":
        try:
            settings.check_workers()
            settings.check_production()
            settings.check_push()
            settings.check_bind(get_config().backend_host)
        except ConfigError as exc:
            refuse_to_start(str(exc), production=not settings.is_dev)
    configure_logging(settings.log_format)
    for warning in settings.original_warnings:
        log.warning(warning)
    return settings


settings = _settings_or_exit()


@contextlib.asynccontextmanager
async def lifespan():
    # A database or Redis that is not up yet does not crash the server: requests get a
    # 503 naming it until it answers.
    with only_process(settings):
        async with (
            container.running(settings, retry_every=5.0, tabs=ReflexTabs(app)),
            gauges_kept_fresh(settings.prometheus_multiproc_dir),
        ):
            # What start-up made (the compiled app, the modules, the clients) lives as long as
            # the process: moved out of the collector's sight, a full collection scans only
            # what requests made since (it scanned it all: 50-95 ms pauses, one a second under
            # the API load).
            gc.freeze()
            gc_watch.install()
            yield


def _api_in_front(reflex_app: ASGIApp) -> ASGIApp:
    # A function, not the FastAPI app itself: given an app, Reflex would wrap it in a second
    # CORS middleware, a send wrapper on every answer, under the one it puts on top of all.
    api = create_api()
    api.mount("", reflex_app)
    return api


# Every page links the manifest and registers the service worker: an installable app (chat_web/pwa.py).
# Toasts (refusals, "Copied") at the top centre, under the conversation's header, on every
# screen: sonner's default, bottom right, put them over the composer's Send, on a phone (full
# width there) as on a desktop. 64 px clears the header and the offline notice; on a phone
# sonner takes `mobileOffset` instead of `offset`.
toaster = rx.toast.provider(position="top-center", offset="64px", custom_attrs={"mobileOffset": "64px"})
app = rx.App(
    api_transformer=_api_in_front,
    stylesheets=["/chat.css"],
    head_components=head_components(),
    toaster=toaster,
)
guard(app)  # what a websocket client may make the server keep or log (chat_web/state/guard.py)
same_origin_sockets(app, settings)
# Our connection notice instead of Reflex's (a toast naming the websocket URL).
app.app_wraps[(5, "Overlay")] = lambda stateful: offline_banner() if stateful else None
app.register_lifespan_task(lifespan)

app.add_page(rx.fragment(), route="/", on_load=SessionState.route_home, title="Chat")
app.add_page(login_page, route="/login", on_load=AuthState.skip_if_signed_in, title="Sign in · Chat")
app.add_page(verify_page, route="/verify", on_load=AuthState.open_verify, title="Enter your code · Chat")
app.add_page(profile_page, route="/profile", on_load=ProfileState.open_profile, title="Profile · Chat")
app.add_page(chat_page, route="/chat", on_load=ChatState.open_page, title="Chat")
app.add_page(chat_page, route="/chat/[chat_id]", on_load=ChatState.open_page, title="Chat")
app.add_page(not_found_page, route="404", title="Page not found · Chat")
if settings.is_dev:
    app.add_page(outbox_page, route="/dev/outbox", on_load=OutboxState.load, title="Dev outbox · Chat")

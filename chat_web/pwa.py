"""The installable app (README: Installable app): what every page's head links."""

from __future__ import annotations

import reflex as rx

MANIFEST = "/manifest.webmanifest"
# The page background of each scheme (Radix: white; slate-1 of the dark theme), so an
# installed app's title bar is the page's own colour.
THEME_LIGHT = "#ffffff"
THEME_DARK = "#111113"


def head_components() -> list[rx.Component]:
    """Linked from every page: the manifest, the theme colours, the icon iOS uses."""
    return [
        rx.el.link(rel="manifest", href=MANIFEST),
        # `media` as an attribute: Reflex reads a `media=` prop as a style.
        *(
            rx.el.meta(name="theme-color", content=colour, custom_attrs={"media": media})
            for media, colour in (
                ("(prefers-color-scheme: light)", THEME_LIGHT),
                ("(prefers-color-scheme: dark)", THEME_DARK),
            )
        ),
        rx.el.link(rel="apple-touch-icon", href="/icons/apple-touch-icon.png"),
    ]

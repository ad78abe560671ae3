"""The profile page's "Download my data": prepare the zip, watch it, then download it."""

from __future__ import annotations

import reflex as rx

from chat_web.components.conversation import API_ORIGIN
from chat_web.state.exports import ExportState

WHAT_IT_HOLDS = (
    "A zip of your profile, your chats with every message in them (JSON), and the photos, files "
    "and voice messages you sent. It is put together in the background; the link works for you "
    "alone, for a day."
)


def my_data_section() -> rx.Component:
    running = ExportState.export_status == "running"
    return rx.vstack(
        rx.text("Download my data", weight="medium"),
        rx.text(WHAT_IT_HOLDS, size="2", color_scheme="gray"),
        rx.cond(
            running,
            rx.vstack(
                rx.progress(value=ExportState.export_percent, max=100, aria_label="Export progress"),
                rx.text(f"Putting your data together… {ExportState.export_percent}%", size="2"),
                id="export-progress",
                width="100%",
                spacing="1",
            ),
        ),
        rx.cond(
            ExportState.export_status == "ready",
            rx.vstack(
                rx.link(
                    rx.icon("download", size=16),
                    "Download my data (zip)",
                    href=API_ORIGIN + ExportState.export_href,
                    id="export-download",
                    weight="medium",
                    display="inline-flex",
                    align_items="center",
                    gap="0.4em",
                ),
                rx.text(ExportState.export_note, size="1", color_scheme="gray"),
                spacing="1",
            ),
        ),
        rx.cond(
            ExportState.export_status == "failed",
            rx.text(ExportState.export_note, size="2", color_scheme="red", id="export-problem"),
        ),
        rx.button(
            rx.cond(ExportState.export_status == "", "Prepare my data", "Prepare it again"),
            on_click=ExportState.start_export,
            loading=running,
            id="start-export",
            variant="soft",
        ),
        on_mount=ExportState.show_latest_export,
        spacing="2",
        width="100%",
        max_width="420px",
    )

import reflex as rx

from chat_web.state.outbox import OutboxState


def _mail(mail: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text.strong(mail["to"]), rx.spacer(), rx.text(mail["at"], size="1", color_scheme="gray")
            ),
            rx.text(mail["subject"], weight="medium"),
            rx.text(mail["body"], class_name="outbox-body"),
            spacing="1",
        ),
        width="100%",
    )


def outbox_page() -> rx.Component:
    return rx.box(
        rx.vstack(
            rx.hstack(
                rx.heading("Development outbox", size="6"),
                rx.spacer(),
                rx.button("Refresh", on_click=OutboxState.load, id="refresh-outbox"),
                width="100%",
            ),
            rx.text(
                "Mail the app would have sent. This page exists only in development mode.",
                color_scheme="gray",
            ),
            rx.cond(
                OutboxState.refused,
                rx.callout("The outbox opens only in a browser on the machine running the app.", color="red"),
            ),
            rx.cond(
                OutboxState.mails.length() > 0,
                rx.foreach(OutboxState.mails, _mail),
                rx.text("No mail yet. Ask for a sign-in code at ", rx.link("/login", href="/login"), "."),
            ),
            spacing="3",
            width="100%",
        ),
        padding="24px",
        max_width="760px",
        margin="0 auto",
    )

import reflex as rx

from chat_web.components.layout import app_frame
from chat_web.state.profile import ProfileState


def profile_page() -> rx.Component:
    return app_frame(
        rx.vstack(
            rx.heading("Your profile", size="6"),
            rx.text("Signed in as ", rx.text.strong(ProfileState.user_email)),
            rx.form(
                rx.vstack(
                    rx.text("Display name", as_="label", html_for="name", weight="medium"),
                    rx.input(
                        name="name",
                        id="name",
                        # key: re-mount with the saved name after it changes.
                        key=ProfileState.user_name,
                        default_value=ProfileState.user_name,
                        max_length=50,
                        required=True,
                        size="3",
                        width="100%",
                    ),
                    rx.button("Save", type="submit", id="save-name", loading=ProfileState.saving),
                    spacing="2",
                    width="100%",
                    max_width="420px",
                ),
                on_submit=ProfileState.save_name,
            ),
            spacing="4",
        )
    )

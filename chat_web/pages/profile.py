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
                    # rx.text(as_="label") drops html_for: a real <label for="name">.
                    rx.el.label(rx.text("Display name", as_="span", weight="medium"), html_for="name"),
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
            rx.divider(),
            rx.vstack(
                rx.text("Sessions", weight="medium"),
                rx.text(
                    "Lost a device, or signed in somewhere you should not have? This signs you out "
                    "everywhere, here included; sign in again with a new code.",
                    size="2",
                    color_scheme="gray",
                ),
                rx.button(
                    "Sign out everywhere",
                    on_click=ProfileState.sign_out_everywhere,
                    id="sign-out-everywhere",
                    color_scheme="red",
                    variant="soft",
                ),
                spacing="2",
                max_width="420px",
            ),
            spacing="4",
        )
    )

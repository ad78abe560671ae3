import reflex as rx

from chat_web.components.delete_account import delete_account_section
from chat_web.components.layout import app_frame
from chat_web.components.my_data import my_data_section
from chat_web.state.profile import ProfileState


def profile_page() -> rx.Component:
    return app_frame(
        rx.vstack(
            rx.cond(
                ProfileState.welcome,
                rx.vstack(
                    rx.heading("Welcome! What should people call you?", size="6", id="welcome"),
                    rx.text(
                        "This is the name people see beside your messages. "
                        "You can change it here at any time.",
                        color_scheme="gray",
                    ),
                    rx.link("Skip for now", href="/chat", id="skip-name"),
                    spacing="2",
                ),
                rx.heading("Your profile", size="6"),
            ),
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
                _sign_out_everywhere(),
                spacing="2",
                max_width="420px",
            ),
            rx.divider(),
            my_data_section(),
            rx.divider(),
            delete_account_section(),
            spacing="4",
        )
    )


def _sign_out_everywhere() -> rx.Component:
    """The button asks first: it ends every session of the user, this tab's included."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button("Sign out everywhere", id="sign-out-everywhere", color_scheme="red", variant="soft"),
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Sign out on every device?"),
            rx.alert_dialog.description(
                "Every browser and app signed in as you, this one included, is signed out at once. "
                "You sign in again with a new code."
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(
                        "Sign out everywhere",
                        on_click=ProfileState.sign_out_everywhere,
                        id="confirm-sign-out-everywhere",
                        color_scheme="red",
                    ),
                ),
                spacing="3",
                justify="end",
                margin_top="1em",
            ),
        ),
    )

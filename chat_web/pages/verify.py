import reflex as rx

from chat_web.components.layout import auth_card
from chat_web.services.validation import OTP_LENGTH
from chat_web.state.auth import AuthState


def _digit_box(index: int) -> rx.Component:
    # Focus moves, backspace and paste are handled in the browser by /otp_boxes.js.
    return rx.el.input(
        name=f"d{index}",
        id=f"otp-{index}",
        custom_attrs={"data-otp-index": str(index), "aria-label": f"Digit {index + 1}"},
        input_mode="numeric",
        auto_complete="one-time-code" if index == 0 else "off",
        max_length=1,
        pattern="[0-9]",
        auto_focus=index == 0,
        class_name="otp-digit",
        style={
            # Six boxes share the card's width (a phone's card is narrower than 6 x 46 px).
            "flex": "1 1 0",
            "min_width": "0",
            "max_width": "46px",
            "height": "56px",
            "font_size": "26px",
            "text_align": "center",
            "border": "1px solid var(--gray-7)",
            "border_radius": "10px",
            "background": "var(--color-surface)",
        },
    )


def _resend_button() -> rx.Component:
    # /otp_boxes.js counts down to data-resend-at in the browser: it fills the span
    # and disables the button until then (the server refuses early resends anyway).
    return rx.button(
        "Resend code",
        rx.el.span(class_name="resend-left"),
        on_click=AuthState.resend,
        loading=AuthState.sending,
        variant="ghost",
        id="resend",
        type="button",
        custom_attrs={"data-resend-at": AuthState.resend_at_ms},
    )


def verify_page() -> rx.Component:
    return auth_card(
        rx.script(src="/otp_boxes.js"),
        rx.heading("Enter your code", size="6"),
        rx.text("We sent a 6-digit code to ", rx.text.strong(AuthState.pending_email), "."),
        rx.form(
            rx.vstack(
                rx.hstack(
                    *[_digit_box(i) for i in range(OTP_LENGTH)], spacing="2", justify="center", width="100%"
                ),
                rx.button(
                    "Sign in",
                    type="submit",
                    id="verify",
                    loading=AuthState.verifying,
                    size="3",
                    width="100%",
                ),
                spacing="4",
                width="100%",
                align="center",
            ),
            on_submit=AuthState.verify,
            width="100%",
        ),
        rx.hstack(
            _resend_button(),
            rx.spacer(),
            rx.button(
                "Use another email", on_click=AuthState.use_another_email, variant="ghost", type="button"
            ),
            width="100%",
        ),
    )

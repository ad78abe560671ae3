"""The "new group" dialog: a title and at least two people besides me."""

from __future__ import annotations

import reflex as rx

from chat_web.state.people import PeopleState
from chat_web.state.rows import Person


def _found(person: Person) -> rx.Component:
    return rx.button(
        rx.icon("plus", size=14),
        person.name,
        on_click=PeopleState.group_pick(person.id),
        variant="ghost",
        size="2",
        class_name="person-hit",
        custom_attrs={"data-group-hit": person.name},
    )


def _picked(person: Person) -> rx.Component:
    return rx.badge(
        person.name,
        rx.icon("x", size=12, on_click=PeopleState.group_unpick(person.id), cursor="pointer"),
        variant="soft",
        radius="full",
        size="2",
    )


def group_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.icon_button(rx.icon("users", size=16), variant="soft", id="new-group", title="New group"),
        ),
        rx.dialog.content(
            rx.dialog.title("New group"),
            rx.vstack(
                rx.input(
                    placeholder="Group name",
                    value=PeopleState.group_title,
                    on_change=PeopleState.set_group_title,
                    max_length=80,
                    id="group-title",
                    width="100%",
                ),
                rx.input(
                    placeholder="Add people by name or email",
                    on_change=PeopleState.group_search.debounce(300),
                    id="group-search",
                    width="100%",
                ),
                rx.flex(rx.foreach(PeopleState.group_picked, _picked), wrap="wrap", gap="2"),
                rx.vstack(rx.foreach(PeopleState.group_found, _found), spacing="1", width="100%"),
                rx.text("A group has 3 to 50 members, you included.", size="1", color_scheme="gray"),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button(
                        "Create group",
                        on_click=PeopleState.create_group,
                        loading=PeopleState.group_saving,
                        disabled=(PeopleState.group_picked.length() < 2)
                        | (PeopleState.group_title.strip() == ""),
                        id="create-group",
                    ),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
            ),
            max_width="440px",
        ),
        open=PeopleState.group_open,
        on_open_change=PeopleState.set_group_open,
    )

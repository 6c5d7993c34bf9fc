"""One panel: its terms of reference, its meetings (scheduled from its cadence, moved,
cancelled or added by its chair or an administrator), its members, and the person's own
calendar feed of their panels' meetings."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

import reflex as rx
from dateutil.relativedelta import relativedelta
from sqlmodel import Session

from panels.meeting_pages import get_panel_page, panel_form_options
from panels.meetings import (
    MeetingRead,
    add_meeting,
    calendar_token,
    cancel_meeting,
    generate_meetings,
    local,
    move_meeting,
    reset_calendar_token,
    timezone,
)
from panels.panel_config import PanelInput, get_panel_set_up, update_panel
from portal import routes
from portal.auth_state import AuthState
from portal.components.forms import dynamic_select_input, reset_form, select_input, text_input
from portal.components.layout import PRODUCT_NAME, empty_state, page_shell
from portal.components.panel_form import PeopleFinder, panel_form, parse_panel_form, search_people
from sharing.config import get_settings
from sharing.db import utcnow
from sharing.errors import DomainError, InvalidInput, SessionExpired
from sharing.permissions import Actor, Permission

STATUS_LABELS = {"scheduled": "Scheduled", "open": "In progress", "closed": "Held", "cancelled": "Cancelled"}
STATUS_COLOURS = {"scheduled": "blue", "open": "green", "closed": "gray", "cancelled": "red"}
MONTH_OPTIONS = [("3", "3 months"), ("6", "6 months"), ("12", "12 months")]


def parse_local_datetime(raw: str) -> datetime | None:
    """A ``datetime-local`` value (e.g. 2026-12-08T10:00) in the portal's time zone, or None."""
    try:
        naive = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    return naive.replace(tzinfo=timezone()) if naive.tzinfo is None else naive


def meeting_row(meeting: MeetingRead) -> dict[str, str]:
    where = meeting.venue or ("Online" if meeting.video_link else "")
    if meeting.venue and meeting.video_link:
        where += " and online"
    return {
        "id": str(meeting.id),
        "href": routes.meeting(meeting.id),
        "when": meeting.when,
        "where": where,
        "status": STATUS_LABELS.get(meeting.status, meeting.status),
        "colour": STATUS_COLOURS.get(meeting.status, "gray"),
        "note": meeting.note,
        "kind": "Extra meeting" if meeting.ad_hoc else "",
        "option": f"{meeting.when}" + (" (cancelled)" if meeting.status == "cancelled" else ""),
        "changeable": "yes" if meeting.status == "scheduled" else "",
    }


class PanelState(AuthState):
    panel_id: int = 0
    missing: str = ""
    name: str = ""
    info: dict[str, str] = {}
    organisations: list[str] = []
    members: list[str] = []
    decision_types: list[str] = []
    upcoming: list[dict[str, str]] = []
    changeable: list[dict[str, str]] = []
    past: list[dict[str, str]] = []
    is_chair: bool = False
    can_schedule: bool = False
    feed_url: str = ""
    errors: dict[str, str] = {}
    can_manage: bool = False
    editing: bool = False
    edit_values: dict[str, str] = {}
    edit_decisions: list[str] = []
    edit_organisations: list[dict[str, str]] = []
    edit_people: list[dict[str, str]] = []
    edit_errors: dict[str, str] = {}
    everyone_listed: bool = True
    people_message: str = ""
    people_error: str = ""

    def _reload(self, session: Session, actor: Actor) -> Actor:
        page = get_panel_page(session=session, actor=actor, panel_id=self.panel_id)
        self.name = page.name
        self.info = {
            "purpose": page.purpose or "Not recorded",
            "chair": page.chair or "No chair yet",
            "deputy": page.deputy or "No deputy",
            "quorum": page.quorum,
            "cadence": page.cadence,
            "time": f"{page.start_time}, for {page.duration_minutes} minutes",
            "venue": page.venue or "No venue: the panel meets online",
            "video_link": page.video_link,
            "sharing_purpose": page.sharing_purpose[:1].upper() + page.sharing_purpose[1:],
            "agenda_cutoff": page.agenda_cutoff,
        }
        self.organisations = list(page.organisations)
        self.members = list(page.members)
        self.decision_types = list(page.decision_types)
        self.upcoming = [meeting_row(m) for m in page.upcoming]
        self.changeable = [{"value": r["id"], "label": r["option"]} for r in self.upcoming if r["changeable"] == "yes"]
        self.past = [meeting_row(m) for m in page.past]
        self.is_chair = page.is_chair
        self.can_schedule = page.can_schedule
        self.can_manage = actor.can(Permission.PANELS_PANELS_MANAGE)
        return actor

    @rx.event
    def load(self) -> Any:
        raw = self._route_arg("panel_id")
        self.missing, self.name, self.feed_url, self.errors = "", "", "", {}
        if not (raw.isdigit() and int(raw) == self.panel_id):
            # Another panel: close the set-up form (a second load of the same page, as when
            # the page finishes connecting, keeps it open with what was typed).
            self.editing, self.edit_errors = False, {}
        if not raw.isdigit():
            self.missing = "There is no such panel."
            return self._load(lambda _session, actor: actor)
        self.panel_id = int(raw)
        try:
            actor = self._run(self._reload)
        except SessionExpired as error:
            return self._to_sign_in(error.message)
        except DomainError as error:
            self.missing = error.message
            return self._load(lambda _session, actor: actor)
        self._show(actor)
        return None

    def _act(self, action: Any, success: str, form_id: str) -> Any:
        self.errors = {}

        def _do(session: Session, actor: Actor) -> str:
            result = action(session, actor)
            self._reload(session, actor)
            return success.format(result=result)

        try:
            message = self._run(_do)
        except InvalidInput as error:
            self.errors = {f"{form_id}:{k}": v for k, v in error.field_errors.items()}
            return None
        except DomainError as error:
            return self._handle(error)
        return [reset_form(form_id), rx.toast.success(message)]

    @rx.event
    def generate(self, form_data: dict[str, Any]) -> Any:
        months = int(str(form_data.get("months", "6")) or "6") if str(form_data.get("months", "6")).isdigit() else 6
        until: date = local(utcnow()).date() + relativedelta(months=months)
        return self._act(
            lambda session, actor: len(
                generate_meetings(session=session, actor=actor, panel_id=self.panel_id, until=until)
            ),
            "{result} meeting(s) added from the panel's pattern.",
            "generate-form",
        )

    def _meeting_choice(self, form_data: dict[str, Any], form_id: str) -> int | None:
        raw = str(form_data.get("meeting_id", ""))
        if not raw.isdigit():
            self.errors = {f"{form_id}:meeting_id": "Choose the meeting."}
            return None
        return int(raw)

    @rx.event
    def move(self, form_data: dict[str, Any]) -> Any:
        meeting_id = self._meeting_choice(form_data, "move-form")
        if meeting_id is None:
            return None
        starts_at = parse_local_datetime(str(form_data.get("starts_at", "")))
        if starts_at is None:
            self.errors = {"move-form:starts_at": "Enter the new date and time."}
            return None
        reason = str(form_data.get("reason", ""))
        return self._act(
            lambda session, actor: (
                move_meeting(session=session, actor=actor, meeting_id=meeting_id, starts_at=starts_at, reason=reason).id
            ),
            "The meeting has moved. Members' calendars will show the new time.",
            "move-form",
        )

    @rx.event
    def cancel(self, form_data: dict[str, Any]) -> Any:
        meeting_id = self._meeting_choice(form_data, "cancel-form")
        if meeting_id is None:
            return None
        reason = str(form_data.get("reason", ""))
        return self._act(
            lambda session, actor: (
                cancel_meeting(session=session, actor=actor, meeting_id=meeting_id, reason=reason).id
            ),
            "The meeting is cancelled. Referrals waiting for it have moved to the next meeting.",
            "cancel-form",
        )

    @rx.event
    def add(self, form_data: dict[str, Any]) -> Any:
        starts_at = parse_local_datetime(str(form_data.get("starts_at", "")))
        if starts_at is None:
            self.errors = {"add-form:starts_at": "Enter the date and time of the meeting."}
            return None
        note = str(form_data.get("note", ""))
        venue = str(form_data.get("venue", "")).strip() or None
        return self._act(
            lambda session, actor: (
                add_meeting(
                    session=session, actor=actor, panel_id=self.panel_id, starts_at=starts_at, note=note, venue=venue
                ).id
            ),
            "The extra meeting is scheduled.",
            "add-form",
        )

    # --- changing the panel's set-up (administrators) ---------------------------------------

    def _show_set_up(
        self, current: PanelInput, organisations: list[tuple[int, str]], people: list[tuple[int, str]]
    ) -> None:
        self.edit_values = {
            "name": current.name,
            "purpose": current.purpose,
            "chair_user_id": str(current.chair_user_id or ""),
            "deputy_chair_user_id": str(current.deputy_chair_user_id or ""),
            "cadence_rrule": current.cadence_rrule,
            "cadence_starts_on": current.cadence_starts_on.isoformat() if current.cadence_starts_on else "",
            "start_time": current.start_time,
            "duration_minutes": str(current.duration_minutes),
            "venue": current.venue,
            "video_link": current.video_link,
            "quorum_min_organisations": str(current.quorum_min_organisations),
            "sharing_purpose": current.sharing_purpose,
        }
        self.edit_decisions = list(current.decision_types)
        members, required = set(current.organisation_ids), set(current.quorum_required_organisation_ids)
        self.edit_organisations = [
            {
                "value": str(i),
                "label": name,
                "member": "yes" if i in members else "",
                "required": "yes" if i in required else "",
            }
            for i, name in organisations
        ]
        named = set(current.member_user_ids)
        self.edit_people = [
            {"value": str(i), "label": name, "member": "yes" if i in named else ""} for i, name in people
        ]

    @rx.event
    def start_edit(self) -> Any:
        panel_id = self.panel_id

        def _read(session: Session, actor: Actor) -> None:
            current = get_panel_set_up(session=session, actor=actor, panel_id=panel_id)
            options = panel_form_options(session=session, actor=actor, panel_id=panel_id)
            self._show_set_up(current, list(options.organisations), list(options.people))
            self.everyone_listed = options.everyone_listed

        try:
            self._run(_read)
        except DomainError as error:
            return self._handle(error)
        self.edit_errors = {}
        self.people_message, self.people_error = "", ""
        self.editing = True
        return None

    @rx.event
    def find_people(self, form_data: dict[str, Any]) -> Any:
        try:
            self.edit_people, self.people_message, self.people_error = search_people(
                self._run, self.edit_people, form_data
            )
        except DomainError as error:
            return self._handle(error)
        return None

    @rx.event
    def cancel_edit(self) -> None:
        self.editing = False
        self.edit_errors = {}

    @rx.event
    def save_panel(self, form_data: dict[str, Any]) -> Any:
        """Save the changed set-up.  What the form does not show (agenda cut-off, pack lead
        time, confidentiality statement) is kept as it is."""
        fields, errors = parse_panel_form(form_data)
        if errors:
            self.edit_errors = errors
            return None
        panel_id = self.panel_id

        def _save(session: Session, actor: Actor) -> str:
            current = get_panel_set_up(session=session, actor=actor, panel_id=panel_id)
            panel = update_panel(session=session, actor=actor, panel_id=panel_id, data=replace(current, **fields))
            self._reload(session, actor)
            return panel.name

        try:
            name = self._run(_save)
        except InvalidInput as error:
            self.edit_errors = error.field_errors
            return None
        except DomainError as error:
            return self._handle(error)
        self.editing = False
        self.edit_errors = {}
        return rx.toast.success(f"The {name}'s set-up is saved. Meetings already scheduled keep their times.")

    def _feed(self, reset: bool) -> Any:
        try:
            token = self._run(
                lambda session, actor: (reset_calendar_token if reset else calendar_token)(session=session, actor=actor)
            )
        except DomainError as error:
            return self._handle(error)
        self.feed_url = get_settings().public_url.rstrip("/") + routes.calendar_feed(token)
        if reset:
            return rx.toast.success("Your calendar address has changed. The old address no longer works.")
        return None

    @rx.event
    def show_feed(self) -> Any:
        return self._feed(reset=False)

    @rx.event
    def reset_feed(self) -> Any:
        return self._feed(reset=True)


def _error(form_id: str, key: str) -> Any:
    return PanelState.errors.get(f"{form_id}:{key}", "")


def _term(label: str, value: Any) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(value))


def terms_of_reference() -> rx.Component:
    info = PanelState.info
    return rx.card(
        rx.vstack(
            rx.heading("Terms of reference", size="5", as_="h2"),
            rx.text(info["purpose"]),
            rx.data_list.root(
                _term("Chair", info["chair"]),
                _term("Deputy chair", info["deputy"]),
                _term("Meets", info["cadence"]),
                _term("Time", info["time"]),
                _term("Venue", info["venue"]),
                rx.cond(
                    info["video_link"] != "",
                    _term(
                        "Online",
                        rx.link(info["video_link"], href=info["video_link"], is_external=True, underline="always"),
                    ),
                ),
                _term("Quorum", info["quorum"]),
                _term("Papers shared for", info["sharing_purpose"]),
                _term("Referrals close", info["agenda_cutoff"]),
                _term("Member organisations", rx.text(PanelState.organisations.join(", "))),  # type: ignore[attr-defined]
            ),
            rx.heading("Decisions it may make", size="3", as_="h3"),
            rx.el.ul(rx.foreach(PanelState.decision_types, lambda d: rx.el.li(d)), class_name="plain-list"),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def edit_form() -> rx.Component:
    S = PanelState
    return panel_form(
        heading="Change the panel's set-up",
        submit_label="Save the changes",
        form_id="panel-edit-form",
        errors=S.edit_errors,
        values=S.edit_values,
        decisions=S.edit_decisions,
        organisations=S.edit_organisations,
        people=S.edit_people,
        finder=PeopleFinder("panel-edit-form", S.everyone_listed, S.people_message, S.people_error, S.find_people),
        on_submit=S.save_panel,
        on_cancel=S.cancel_edit,
    )


def _meeting_table(rows: Any, caption: str, table_id: str) -> rx.Component:
    return rx.table.root(
        rx.el.caption(caption, class_name="visually-hidden"),
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell("When"),
                rx.table.column_header_cell("Where"),
                rx.table.column_header_cell("Status"),
            )
        ),
        rx.table.body(
            rx.foreach(
                rows,
                lambda m: rx.table.row(
                    rx.table.row_header_cell(
                        rx.vstack(
                            rx.link(m["when"], href=m["href"], underline="always"),
                            rx.cond(m["kind"] != "", rx.text(m["kind"], size="1")),
                            rx.cond(m["note"] != "", rx.text(m["note"], size="1", color_scheme="gray")),
                            spacing="1",
                        )
                    ),
                    rx.table.cell(m["where"]),
                    rx.table.cell(rx.badge(m["status"], color_scheme=m["colour"], high_contrast=True, variant="soft")),
                ),
            )
        ),
        variant="surface",
        width="100%",
        id=table_id,
    )


def _textarea(label: str, name: str, form_id: str) -> rx.Component:
    field_id = f"{form_id}-{name}"
    return rx.vstack(
        rx.el.label(label, html_for=field_id, class_name="field-label"),
        rx.el.textarea(id=field_id, name=name, rows=2, class_name="field-input"),
        rx.cond(
            _error(form_id, name) != "",
            rx.text(_error(form_id, name), color_scheme="red", size="2", role="alert"),
        ),
        spacing="1",
        width="100%",
    )


def scheduling() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Schedule meetings", size="5", as_="h2"),
            rx.form(
                rx.hstack(
                    rx.box(
                        select_input(
                            "Schedule from the pattern for the next", "months", MONTH_OPTIONS, placeholder="6 months"
                        ),
                        min_width="16em",
                    ),
                    rx.button("Schedule meetings", type="submit"),
                    align="end",
                    spacing="3",
                    wrap="wrap",
                ),
                rx.cond(
                    _error("generate-form", "until") != "",
                    rx.text(_error("generate-form", "until"), color_scheme="red", size="2", role="alert"),
                ),
                on_submit=PanelState.generate,
                no_validate=True,
                id="generate-form",
            ),
            rx.grid(
                rx.form(
                    rx.vstack(
                        rx.heading("Move a meeting", size="3", as_="h3"),
                        dynamic_select_input(
                            "Meeting to move",
                            "meeting_id",
                            PanelState.changeable,
                            error=_error("move-form", "meeting_id"),
                            field_id="move-meeting",
                        ),
                        text_input(
                            "New date and time",
                            "starts_at",
                            type="datetime-local",
                            id="move-starts-at",
                            error=_error("move-form", "starts_at"),
                        ),
                        _textarea("Why it is moving", "reason", "move-form"),
                        rx.button("Move the meeting", type="submit"),
                        spacing="3",
                        align="stretch",
                    ),
                    on_submit=PanelState.move,
                    no_validate=True,
                    id="move-form",
                ),
                rx.form(
                    rx.vstack(
                        rx.heading("Cancel a meeting", size="3", as_="h3"),
                        dynamic_select_input(
                            "Meeting to cancel",
                            "meeting_id",
                            PanelState.changeable,
                            error=_error("cancel-form", "meeting_id"),
                            field_id="cancel-meeting",
                        ),
                        _textarea("Why it is cancelled", "reason", "cancel-form"),
                        rx.button("Cancel the meeting", type="submit", color_scheme="red"),
                        spacing="3",
                        align="stretch",
                    ),
                    on_submit=PanelState.cancel,
                    no_validate=True,
                    id="cancel-form",
                ),
                rx.form(
                    rx.vstack(
                        rx.heading("Add an extra meeting", size="3", as_="h3"),
                        text_input(
                            "Date and time",
                            "starts_at",
                            type="datetime-local",
                            id="add-starts-at",
                            error=_error("add-form", "starts_at"),
                        ),
                        text_input(
                            "Venue (if not the usual)", "venue", id="add-venue", error=_error("add-form", "venue")
                        ),
                        _textarea("Why it is needed", "note", "add-form"),
                        rx.button("Add the meeting", type="submit"),
                        spacing="3",
                        align="stretch",
                    ),
                    on_submit=PanelState.add,
                    no_validate=True,
                    id="add-form",
                ),
                columns=rx.breakpoints(initial="1", md="3"),
                spacing="5",
                width="100%",
            ),
            spacing="4",
            width="100%",
        ),
        width="100%",
    )


def calendar_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Subscribe to my calendar", size="5", as_="h2"),
            rx.text(
                "Add the meetings of all your panels to Outlook or another calendar. The address is personal: "
                "anyone who has it can see when and where your panels meet (never what is discussed).",
                size="2",
            ),
            rx.cond(
                PanelState.feed_url != "",
                rx.vstack(
                    rx.el.label("Your calendar address", html_for="feed-url", class_name="field-label"),
                    rx.el.input(
                        id="feed-url", value=PanelState.feed_url, read_only=True, class_name="field-input", width="100%"
                    ),
                    rx.button(
                        "Reset my calendar address",
                        type="button",
                        variant="soft",
                        color_scheme="red",
                        on_click=PanelState.reset_feed,
                    ),
                    spacing="2",
                    width="100%",
                ),
                rx.button("Show my calendar address", type="button", on_click=PanelState.show_feed),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


@rx.page(route=routes.PANEL, title=f"Panel · {PRODUCT_NAME}", on_load=PanelState.load)
def panel_page() -> rx.Component:
    return page_shell(
        rx.cond(PanelState.name != "", PanelState.name, "Panel"),  # type: ignore[arg-type]
        rx.cond(
            PanelState.missing != "",
            rx.callout(PanelState.missing, icon="ban", color_scheme="red", high_contrast=True, role="alert"),
            rx.vstack(
                rx.link("All panels", href=routes.PANELS, size="2", underline="always"),
                rx.cond(
                    PanelState.editing,
                    edit_form(),
                    rx.vstack(
                        terms_of_reference(),
                        rx.cond(
                            PanelState.can_manage,
                            rx.button("Change the panel's set-up", on_click=PanelState.start_edit, variant="soft"),
                        ),
                        spacing="3",
                        width="100%",
                    ),
                ),
                rx.heading("Coming meetings", size="5", as_="h2"),
                rx.cond(
                    PanelState.upcoming.length() > 0,  # type: ignore[attr-defined]
                    _meeting_table(PanelState.upcoming, "Coming meetings", "upcoming-meetings"),
                    empty_state("No meetings are scheduled.", "The chair or an administrator schedules them."),
                ),
                rx.cond(PanelState.can_schedule, scheduling()),
                rx.cond(
                    PanelState.past.length() > 0,  # type: ignore[attr-defined]
                    rx.vstack(
                        rx.heading("Recent meetings", size="5", as_="h2"),
                        _meeting_table(PanelState.past, "Recent meetings", "past-meetings"),
                        width="100%",
                    ),
                ),
                rx.heading("Members", size="5", as_="h2"),
                rx.cond(
                    PanelState.members.length() > 0,  # type: ignore[attr-defined]
                    rx.el.ul(rx.foreach(PanelState.members, lambda m: rx.el.li(m)), class_name="plain-list"),
                    rx.text("No one is named on this panel: its member organisations attend."),
                ),
                calendar_card(),
                spacing="5",
                width="100%",
            ),
        ),
        subtitle="Its terms of reference, meetings and members.",
    )

"""One meeting of a panel.  Before it: the agenda (the chair orders, builds and publishes it),
the referrals waiting on it (the chair accepts, defers or declines them), the lead officer's
"refer a case" form, the pack as the reader's organisation may see it (and, for the lead
officer, what each member organisation will and will not see), its calendar entry.  After
it: the minutes (drafted, circulated, commented on, approved and locked), the decisions with
their amendments and actions, and the organisation's own copy as a PDF."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from panels.agenda import build_agenda, list_agenda, publish_agenda, reorder_agenda
from panels.decisions import AMENDABLE, amend_decision
from panels.meeting_pages import (
    DecisionRead,
    get_meeting_page,
    list_meeting_decisions,
    list_own_referrals,
    list_referable_cases,
)
from panels.meetings import format_when, get_meeting
from panels.minutes import (
    MinutesCopy,
    approve_minutes,
    circulate_minutes,
    comment_on_minutes,
    draft_minutes,
    minutes_for_organisation,
)
from panels.packs import OrganisationPreview, Pack, meeting_pack, pack_preview
from panels.referrals import ReferralRead, decide_referral, list_meeting_referrals, refer_case
from portal import routes
from portal.auth_state import AuthState
from portal.components.forms import dynamic_select_input, reset_form, select_input
from portal.components.layout import PRODUCT_NAME, empty_state, file_link, page_shell
from portal.formatting import local_time
from portal.pages.panel import STATUS_COLOURS, STATUS_LABELS
from sharing.errors import DomainError, InvalidInput, SessionExpired
from sharing.permissions import Actor
from sharing.reads import ItemView

MINUTES_LABELS = {
    "": "Not drafted yet",
    "draft": "Draft (with the chair)",
    "circulated": "Circulated for comment",
    "approved": "Approved and locked",
}
AMEND_OPTIONS = [(k, v) for k, v in AMENDABLE.items()]
REFERRAL_NOT_SHARED = "The referral's details have not been shared with your organisation."


def _view_rows(view: ItemView, level: str = "view") -> list[dict[str, str]]:
    rows = [{"kind": level, "text": view.title, "detail": f"{view.owner_organisation}, {view.marking}"}]
    rows += [
        {"kind": "field", "text": f.label, "detail": f.value, "withheld": "yes" if f.withheld else ""}
        for f in view.fields
    ]
    return rows


def pack_rows(pack: Pack) -> list[dict[str, str]]:
    """The pack flattened for the page: an agenda item, then what is shown of it."""
    rows: list[dict[str, str]] = []
    for item in pack.items:
        rows.append(
            {"kind": "item", "text": f"{item.position}. Case {item.case_reference}", "detail": item.source_label}
        )
        if item.note:
            rows.append({"kind": "note", "text": item.note, "detail": ""})
        for view in item.items:
            rows += _view_rows(view)
    return rows


def preview_rows(previews: list[OrganisationPreview]) -> list[dict[str, str]]:
    """Per member organisation: the records it will see (and the parts withheld from it), then
    in one line the records it will not see at all."""
    rows: list[dict[str, str]] = []
    for organisation in previews:
        rows.append({"kind": "organisation", "text": organisation.organisation, "detail": ""})
        for item in (i for i in organisation.items if i.will_see):
            detail = "Will see: " + ", ".join(item.shown_fields)
            if item.withheld_fields:
                detail += ". Will not see: " + ", ".join(item.withheld_fields)
            rows.append({"kind": "field", "text": item.title, "detail": detail, "withheld": ""})
        hidden = [i.title for i in organisation.items if not i.will_see]
        if hidden:
            rows.append({"kind": "note", "text": f"Will not see ({len(hidden)}): " + "; ".join(hidden), "detail": ""})
    return rows


def referral_row(referral: ReferralRead) -> dict[str, str]:
    fields = {f.key: f.value for f in referral.content.fields} if referral.content is not None else {}
    return {
        "id": str(referral.id),
        "case": referral.case_reference,
        "case_href": routes.case(referral.case_id),
        "status": referral.status,
        "status_label": referral.status_label,
        "meeting_day": referral.meeting_day,
        "meeting_href": routes.meeting(referral.meeting_id),
        "reason": fields.get("reason", ""),
        "decision_sought": fields.get("decision_sought", ""),
        "evidence": fields.get("evidence", ""),
        "shared": "yes" if referral.content is not None else "",
        "decision_reason": referral.decision_reason,
        "referred": local_time(referral.referred_at),
        "decidable": "yes" if referral.status in ("submitted", "deferred") else "",
    }


def minutes_rows(copy: MinutesCopy) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = [{"kind": "note", "text": copy.quorum + ".", "detail": ""}]
    rows.append({"kind": "heading", "text": "Attendance", "detail": ""})
    rows += [{"kind": "line", "text": line, "detail": ""} for line in copy.attendance]
    if copy.declarations:
        rows.append({"kind": "heading", "text": "Declarations of interest", "detail": ""})
        rows += [{"kind": "line", "text": line, "detail": ""} for line in copy.declarations]
    if copy.notes:
        rows.append({"kind": "heading", "text": "Notes", "detail": ""})
        rows += [{"kind": "line", "text": line, "detail": ""} for line in copy.notes]
    for item in copy.items:
        rows.append(
            {"kind": "item", "text": f"{item.position}. Case {item.case_reference}", "detail": item.source_label}
        )
        rows += [{"kind": "line", "text": f"Note: {line}", "detail": ""} for line in item.notes]
        if not item.decided:
            rows.append({"kind": "note", "text": "No decision recorded.", "detail": ""})
        if item.note:
            rows.append({"kind": "note", "text": item.note, "detail": ""})
        if item.decision is not None:
            rows += [
                {"kind": "field", "text": f.label, "detail": f.value, "withheld": "yes" if f.withheld else ""}
                for f in item.decision.fields
            ]
        if item.excluded:
            rows.append({"kind": "line", "text": "Took no part (declared an interest): " + ", ".join(item.excluded)})
        rows += [{"kind": "line", "text": f"Your organisation's action: {a}", "detail": ""} for a in item.own_actions]
    if copy.comments:
        rows.append({"kind": "heading", "text": "Comments on the draft", "detail": ""})
        rows += [{"kind": "line", "text": c, "detail": ""} for c in copy.comments]
    return rows


def decision_rows(decisions: list[DecisionRead]) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for decision in decisions:
        rows.append({"kind": "item", "text": f"{decision.position}. Case {decision.case_reference}", "detail": ""})
        if decision.note:
            rows.append({"kind": "note", "text": decision.note, "detail": ""})
        if decision.view is not None:
            rows += [
                {"kind": "field", "text": f.label, "detail": f.value, "withheld": "yes" if f.withheld else ""}
                for f in decision.view.fields
            ]
        rows += [{"kind": "line", "text": a, "detail": ""} for a in decision.amendments]
        rows += [
            {"kind": "line", "text": f"Your organisation's action: {a}", "detail": ""} for a in decision.own_actions
        ]
    return rows


class MeetingState(AuthState):
    meeting_id: int = 0
    panel_id: int = 0
    missing: str = ""
    title: str = ""
    m: dict[str, str] = {}
    is_chair: bool = False
    is_member: bool = False
    can_refer: bool = False
    agenda_visible: bool = False
    owns_case: bool = False
    minutes_status: str = ""
    minutes_visible: bool = False
    attended: bool = False
    lands_on: dict[str, str] = {}
    agenda: list[dict[str, str]] = []
    referrals: list[dict[str, str]] = []
    own_referrals: list[dict[str, str]] = []
    referable: list[dict[str, str]] = []
    pack: list[dict[str, str]] = []
    preview: list[dict[str, str]] = []
    minutes: list[dict[str, str]] = []
    decisions: list[dict[str, str]] = []
    decision_options: list[dict[str, str]] = []
    referred: dict[str, str] = {}
    errors: dict[str, str] = {}

    def _reload(self, session: Session, actor: Actor) -> Actor:
        page = get_meeting_page(session=session, actor=actor, meeting_id=self.meeting_id)
        meeting = page.meeting
        self.panel_id = meeting.panel_id
        self.title = f"{meeting.panel_name}: {meeting.when}"
        self.m = {
            "panel": meeting.panel_name,
            "panel_href": routes.panel(meeting.panel_id),
            "when": meeting.when,
            "venue": meeting.venue,
            "video_link": meeting.video_link,
            "status": meeting.status,
            "status_label": STATUS_LABELS.get(meeting.status, meeting.status),
            "colour": STATUS_COLOURS.get(meeting.status, "gray"),
            "note": meeting.note,
            "cutoff": local_time(meeting.agenda_cutoff_at),
            "published": local_time(meeting.agenda_published_at, empty=""),
            "ics": routes.meeting_ics(meeting.id),
            "pack_pdf": routes.meeting_pack_pdf(meeting.id),
            "minutes_pdf": routes.meeting_minutes_pdf(meeting.id),
            "room": routes.meeting_room(meeting.id),
        }
        self.is_chair, self.is_member, self.can_refer = page.is_chair, page.is_member, page.can_refer
        self.agenda_visible, self.owns_case = page.agenda_visible, page.owns_case_on_agenda
        self.minutes_status, self.minutes_visible, self.attended = (
            page.minutes_status,
            page.minutes_visible,
            page.attended,
        )
        lands = page.referrals_land_on
        self.lands_on = (
            {"when": lands.when, "href": routes.meeting(lands.id), "same": "yes" if lands.id == meeting.id else ""}
            if lands is not None
            else {}
        )
        self.agenda, self.pack, self.preview, self.referrals, self.own_referrals = [], [], [], [], []
        self.referable, self.minutes, self.decisions, self.decision_options = [], [], [], []
        if page.agenda_visible:
            self.agenda = [
                {
                    "id": str(a.id),
                    "position": str(a.position),
                    "case": a.case_reference,
                    "source": a.source_label,
                    "status": "Decided" if a.status == "decided" else "",
                    "conflicted": ", ".join(a.conflicted),
                }
                for a in list_agenda(session=session, actor=actor, meeting_id=self.meeting_id)
            ]
            self.pack = pack_rows(meeting_pack(session=session, actor=actor, meeting_id=self.meeting_id))
        if page.is_chair:
            self.referrals = [
                referral_row(r)
                for r in list_meeting_referrals(session=session, actor=actor, meeting_id=self.meeting_id)
            ]
        if page.can_refer:
            self.own_referrals = [
                referral_row(r) for r in list_own_referrals(session=session, actor=actor, meeting_id=self.meeting_id)
            ]
            self.referable = [
                {"value": str(c.case_id), "label": c.label} for c in list_referable_cases(session=session, actor=actor)
            ]
        if page.owns_case_on_agenda:
            self.preview = preview_rows(pack_preview(session=session, actor=actor, meeting_id=self.meeting_id))
        if page.minutes_visible:
            self.minutes = minutes_rows(
                minutes_for_organisation(session=session, actor=actor, meeting_id=self.meeting_id)
            )
        if page.is_member and meeting.status in ("open", "closed"):
            decisions = list_meeting_decisions(session=session, actor=actor, meeting_id=self.meeting_id)
            self.decisions = decision_rows(decisions)
            self.decision_options = [
                {"value": str(d.decision_id), "label": f"Item {d.position}: case {d.case_reference}"} for d in decisions
            ]
        return actor

    @rx.event
    def load(self) -> Any:
        raw = self._route_arg("meeting_id")
        self.missing, self.title, self.errors, self.referred = "", "", {}, {}
        if not raw.isdigit():
            self.missing = "There is no such meeting."
            return self._load(lambda _session, actor: actor)
        self.meeting_id = int(raw)
        try:
            actor = self._run(self._reload)
        except SessionExpired as error:
            return self._to_sign_in(error.message)
        except DomainError as error:
            self.missing = error.message
            return self._load(lambda _session, actor: actor)
        self._show(actor)
        return None

    def _act(self, action: Any, success: str, form_id: str = "") -> Any:
        self.errors = {}

        def _do(session: Session, actor: Actor) -> Any:
            result = action(session, actor)
            self._reload(session, actor)
            return result

        try:
            result = self._run(_do)
        except InvalidInput as error:
            if form_id:
                self.errors = {f"{form_id}:{k}": v for k, v in error.field_errors.items()}
                return None
            return rx.toast.error(" ".join(error.field_errors.values()) or error.message, duration=8000)
        except DomainError as error:
            return self._handle(error)
        events: list[Any] = [rx.toast.success(success.format(result=result))]
        if form_id:
            events.insert(0, reset_form(form_id))
        return events

    # --- The agenda (the chair) ---

    @rx.event
    def move_item(self, item_id: str, step: int) -> Any:
        order = [int(a["id"]) for a in self.agenda]
        index = order.index(int(item_id)) if int(item_id) in order else -1
        target = index + step
        if index < 0 or not 0 <= target < len(order):
            return None
        order[index], order[target] = order[target], order[index]
        return self._act(
            lambda session, actor: reorder_agenda(
                session=session, actor=actor, meeting_id=self.meeting_id, item_ids=order
            ),
            "The agenda order is saved.",
        )

    @rx.event
    def build(self) -> Any:
        return self._act(
            lambda session, actor: len(build_agenda(session=session, actor=actor, meeting_id=self.meeting_id)),
            "The agenda is built: {result} item(s).",
        )

    @rx.event
    def publish(self) -> Any:
        return self._act(
            lambda session, actor: publish_agenda(session=session, actor=actor, meeting_id=self.meeting_id),
            "The agenda and pack are published to the panel's members.",
        )

    # --- Referrals ---

    @rx.event
    def decide(self, referral_id: str, decision: str) -> Any:
        labels = {"accept": "accepted onto the agenda", "defer": "deferred to the next meeting"}
        return self._act(
            lambda session, actor: decide_referral(
                session=session, actor=actor, referral_id=int(referral_id), decision=decision
            ),
            f"The referral is {labels.get(decision, decision)}.",
        )

    @rx.event
    def decline(self, form_data: dict[str, Any]) -> Any:
        referral_id = str(form_data.get("referral_id", ""))
        reason = str(form_data.get("reason", ""))
        if not referral_id.isdigit():
            return None
        return self._act(
            lambda session, actor: decide_referral(
                session=session, actor=actor, referral_id=int(referral_id), decision="decline", reason=reason
            ),
            "The referral is declined; the referring officer will see your reason.",
            f"decline-{referral_id}",
        )

    @rx.event
    def refer(self, form_data: dict[str, Any]) -> Any:
        self.referred = {}
        case_raw = str(form_data.get("case_id", ""))
        if not case_raw.isdigit():
            self.errors = {"refer-form:case": "Choose the case to refer."}
            return None

        def _do(session: Session, actor: Actor) -> dict[str, str]:
            referral = refer_case(
                session=session,
                actor=actor,
                case_id=int(case_raw),
                panel_id=self.panel_id,
                reason=str(form_data.get("reason", "")),
                decision_sought=str(form_data.get("decision_sought", "")),
                evidence=str(form_data.get("evidence", "")),
            )
            self._reload(session, actor)
            landed, _ = get_meeting(session, referral.meeting_id)
            return {"when": format_when(landed.starts_at), "href": routes.meeting(referral.meeting_id)}

        self.errors = {}
        try:
            self.referred = self._run(_do)
        except InvalidInput as error:
            self.errors = {f"refer-form:{k}": v for k, v in error.field_errors.items()}
            return None
        except DomainError as error:
            return self._handle(error)
        return reset_form("refer-form")

    # --- Minutes and decisions ---

    @rx.event
    def draft(self) -> Any:
        return self._act(
            lambda session, actor: draft_minutes(session=session, actor=actor, meeting_id=self.meeting_id),
            "The minutes are drafted from the meeting's record.",
        )

    @rx.event
    def circulate(self) -> Any:
        return self._act(
            lambda session, actor: circulate_minutes(session=session, actor=actor, meeting_id=self.meeting_id),
            "The draft minutes are circulated to those who attended, for comment.",
        )

    @rx.event
    def approve(self) -> Any:
        return self._act(
            lambda session, actor: approve_minutes(session=session, actor=actor, meeting_id=self.meeting_id),
            "The minutes are approved. They and the meeting's decisions are now locked.",
        )

    @rx.event
    def comment(self, form_data: dict[str, Any]) -> Any:
        text = str(form_data.get("comment", ""))
        return self._act(
            lambda session, actor: comment_on_minutes(
                session=session, actor=actor, meeting_id=self.meeting_id, comment=text
            ),
            "Your comment is sent to the chair.",
            "comment-form",
        )

    @rx.event
    def amend(self, form_data: dict[str, Any]) -> Any:
        decision_raw = str(form_data.get("decision_id", ""))
        if not decision_raw.isdigit():
            self.errors = {"amend-form:decision_id": "Choose the decision to amend."}
            return None
        return self._act(
            lambda session, actor: amend_decision(
                session=session,
                actor=actor,
                decision_id=int(decision_raw),
                field_name=str(form_data.get("field_name", "")),
                new_value=str(form_data.get("new_value", "")),
                reason=str(form_data.get("reason", "")),
            ),
            "The decision is amended; the change and its reason are recorded.",
            "amend-form",
        )


# --- Components ----------------------------------------------------------------------------------


def _error(form_id: str, key: str) -> Any:
    message = MeetingState.errors.get(f"{form_id}:{key}", "")
    return rx.cond(message != "", rx.text(message, color_scheme="red", size="2", role="alert"))


def _textarea(label: str, name: str, form_id: str, hint: str = "") -> rx.Component:
    field_id = f"{form_id}-{name}".replace("_", "-")
    return rx.vstack(
        rx.el.label(label, html_for=field_id, class_name="field-label"),
        *([rx.text(hint, size="1", color_scheme="gray")] if hint else []),
        rx.el.textarea(id=field_id, name=name, rows=3, class_name="field-input"),
        _error(form_id, name),
        spacing="1",
        width="100%",
    )


def shared_rows(rows: Any, item_level: str = "h3") -> rx.Component:
    """Flattened rows (item, note, view, field, heading, line) of a pack, minutes or decisions."""

    def _row(row: Any) -> rx.Component:
        return rx.match(
            row["kind"],
            (
                "item",
                rx.heading(
                    row["text"],
                    " ",
                    rx.text.span(row["detail"], size="2", weight="regular"),
                    size="4",
                    as_=item_level,
                    margin_top="0.75em",
                ),
            ),
            ("organisation", rx.heading(row["text"], size="4", as_=item_level, margin_top="0.75em")),
            ("heading", rx.heading(row["text"], size="3", as_="h3", margin_top="0.5em")),
            ("view", rx.text(rx.text.strong(row["text"]), " (", row["detail"], ")", size="2")),
            ("note", rx.callout(row["text"], icon="info", color_scheme="gray", high_contrast=True, size="1")),
            (
                "field",
                rx.hstack(
                    rx.text(row["text"], ":", weight="medium", size="2", min_width="12em"),
                    rx.cond(
                        row["withheld"] == "yes",
                        rx.badge(row["detail"], color_scheme="orange", high_contrast=True, variant="soft"),
                        rx.text(row["detail"], size="2"),
                    ),
                    spacing="3",
                    align="start",
                    padding_left="1em",
                ),
            ),
            rx.text(row["text"], size="2"),
        )

    return rx.vstack(rx.foreach(rows, _row), spacing="1", width="100%", align="stretch")


def meeting_header() -> rx.Component:
    m = MeetingState.m
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.badge(m["status_label"], color_scheme=m["colour"], high_contrast=True, size="2"),
                rx.link(m["panel"], href=m["panel_href"], underline="always"),
                spacing="3",
                align="center",
                wrap="wrap",
            ),
            rx.cond(m["venue"] != "", rx.text("Venue: ", m["venue"])),
            rx.cond(
                m["video_link"] != "",
                rx.text(
                    "Online: ", rx.link(m["video_link"], href=m["video_link"], is_external=True, underline="always")
                ),
            ),
            rx.cond(m["note"] != "", rx.text(m["note"], color_scheme="gray", size="2")),
            rx.text("Referrals for this meeting close ", m["cutoff"], ".", size="2"),
            rx.cond(
                m["published"] != "",
                rx.text("Agenda and pack published ", m["published"], ".", size="2"),
                rx.text("The agenda has not been published yet.", size="2"),
            ),
            rx.hstack(
                rx.cond(
                    (m["status"] == "scheduled") & MeetingState.is_chair,
                    rx.link(rx.button("Open the meeting"), href=m["room"]),
                ),
                rx.cond(
                    (m["status"] == "open") & MeetingState.is_member,
                    rx.link(rx.button("Join the meeting"), href=m["room"]),
                ),
                file_link("Add to my calendar (.ics)", m["ics"]),
                spacing="4",
                align="center",
                wrap="wrap",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def agenda_section() -> rx.Component:
    chair_can_change = MeetingState.is_chair & (MeetingState.m["status"] == "scheduled")
    return rx.vstack(
        rx.heading("Agenda", size="5", as_="h2"),
        rx.cond(
            MeetingState.agenda.length() > 0,  # type: ignore[attr-defined]
            rx.el.ol(
                rx.foreach(
                    MeetingState.agenda,
                    lambda a: rx.el.li(
                        rx.hstack(
                            rx.text(rx.text.strong("Case ", a["case"]), " ", a["source"]),
                            rx.cond(a["status"] != "", rx.badge(a["status"], high_contrast=True, variant="soft")),
                            rx.cond(
                                a["conflicted"] != "",
                                rx.text("Interest declared: ", a["conflicted"], size="1", color_scheme="gray"),
                            ),
                            rx.spacer(),
                            rx.cond(
                                chair_can_change,
                                rx.hstack(
                                    rx.button(
                                        "Move up",
                                        size="1",
                                        variant="soft",
                                        aria_label="Move up item " + a["position"],
                                        on_click=MeetingState.move_item(a["id"], -1),
                                    ),
                                    rx.button(
                                        "Move down",
                                        size="1",
                                        variant="soft",
                                        aria_label="Move down item " + a["position"],
                                        on_click=MeetingState.move_item(a["id"], 1),
                                    ),
                                    spacing="2",
                                ),
                            ),
                            width="100%",
                            align="center",
                            wrap="wrap",
                        ),
                        class_name="agenda-item",
                    ),
                ),
                id="agenda",
            ),
            empty_state("Nothing is on the agenda yet."),
        ),
        rx.cond(
            chair_can_change,
            rx.hstack(
                rx.button("Build the agenda", variant="soft", on_click=MeetingState.build),
                rx.button(
                    rx.cond(MeetingState.m["published"] != "", "Publish the changes", "Publish the agenda and pack"),
                    on_click=MeetingState.publish,
                ),
                spacing="3",
            ),
        ),
        width="100%",
        spacing="3",
    )


def _referral_card(r: Any, decidable: bool) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(rx.text.strong("Case ", r["case"])),
                rx.badge(r["status_label"], high_contrast=True, variant="soft"),
                rx.text("Referred ", r["referred"], size="1", color_scheme="gray"),
                spacing="3",
                align="center",
                wrap="wrap",
            ),
            rx.cond(
                r["shared"] == "yes",
                rx.vstack(
                    rx.text(rx.text.strong("Why: "), r["reason"], size="2"),
                    rx.text(rx.text.strong("Decision sought: "), r["decision_sought"], size="2"),
                    rx.text(rx.text.strong("Evidence: "), r["evidence"], size="2"),
                    spacing="1",
                ),
                rx.text(REFERRAL_NOT_SHARED, size="2"),
            ),
            rx.cond(r["decision_reason"] != "", rx.text("Chair's reason: ", r["decision_reason"], size="2")),
            *(
                [
                    rx.cond(
                        r["decidable"] == "yes",
                        rx.vstack(
                            rx.hstack(
                                rx.button(
                                    "Accept",
                                    aria_label="Accept the referral of case " + r["case"],
                                    on_click=MeetingState.decide(r["id"], "accept"),
                                ),
                                rx.button(
                                    "Defer",
                                    variant="soft",
                                    aria_label="Defer the referral of case " + r["case"],
                                    on_click=MeetingState.decide(r["id"], "defer"),
                                ),
                                spacing="3",
                            ),
                            rx.form(
                                rx.el.input(type="hidden", name="referral_id", value=r["id"]),
                                rx.vstack(
                                    rx.el.label(
                                        "Reason for declining case " + r["case"],
                                        html_for="decline-reason-" + r["id"],
                                        class_name="field-label",
                                    ),
                                    rx.el.textarea(
                                        id="decline-reason-" + r["id"], name="reason", rows=2, class_name="field-input"
                                    ),
                                    rx.cond(
                                        MeetingState.errors.get("decline-" + r["id"] + ":reason", "") != "",
                                        rx.text(
                                            MeetingState.errors.get("decline-" + r["id"] + ":reason", ""),
                                            color_scheme="red",
                                            size="2",
                                            role="alert",
                                        ),
                                    ),
                                    rx.button(
                                        "Decline",
                                        type="submit",
                                        color_scheme="red",
                                        variant="soft",
                                        aria_label="Decline the referral of case " + r["case"],
                                    ),
                                    spacing="2",
                                    width="100%",
                                ),
                                on_submit=MeetingState.decline,
                                no_validate=True,
                                id="decline-" + r["id"],
                            ),
                            spacing="3",
                            width="100%",
                        ),
                    )
                ]
                if decidable
                else [
                    rx.cond(
                        r["meeting_day"] != "",
                        rx.text(
                            "For the meeting on ",
                            rx.link(r["meeting_day"], href=r["meeting_href"], underline="always"),
                            size="2",
                        ),
                    )
                ]
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def referrals_section() -> rx.Component:
    return rx.vstack(
        rx.heading("Referrals to this meeting", size="5", as_="h2"),
        rx.cond(
            MeetingState.referrals.length() > 0,  # type: ignore[attr-defined]
            rx.vstack(rx.foreach(MeetingState.referrals, lambda r: _referral_card(r, True)), width="100%"),
            empty_state("No referrals are waiting on this meeting."),
        ),
        width="100%",
        id="referrals",
    )


def refer_section() -> rx.Component:
    lands = MeetingState.lands_on
    return rx.card(
        rx.vstack(
            rx.heading("Refer a case", size="5", as_="h2"),
            rx.cond(
                lands.get("when", "") != "",
                rx.text(
                    "A referral made now goes to the next available meeting: ",
                    rx.link(lands.get("when", ""), href=lands.get("href", ""), underline="always"),
                    rx.cond(lands.get("same", "") == "yes", " (this meeting).", "."),
                    id="lands-on",
                ),
                rx.text("This panel has no meeting open for referrals. Ask its chair to schedule one."),
            ),
            rx.cond(
                MeetingState.referred.get("when", "") != "",
                rx.callout(
                    rx.text(
                        "Referred to the meeting on ",
                        rx.link(
                            MeetingState.referred.get("when", ""),
                            href=MeetingState.referred.get("href", ""),
                            underline="always",
                        ),
                        ". The chair has been told and decides whether it goes on the agenda.",
                    ),
                    icon="check",
                    color_scheme="green",
                    high_contrast=True,
                    role="status",
                    id="referral-outcome",
                ),
            ),
            rx.cond(
                MeetingState.own_referrals.length() > 0,  # type: ignore[attr-defined]
                rx.vstack(
                    rx.heading("Your organisation's referrals to this meeting", size="3", as_="h3"),
                    rx.foreach(MeetingState.own_referrals, lambda r: _referral_card(r, False)),
                    width="100%",
                ),
            ),
            rx.form(
                rx.vstack(
                    dynamic_select_input(
                        "Case", "case_id", MeetingState.referable, field_id="refer-case", placeholder="Choose a case…"
                    ),
                    _error("refer-form", "case"),
                    _error("refer-form", "panel_id"),
                    _textarea("Why the case needs the panel", "reason", "refer-form"),
                    _textarea("Decision you are asking the panel to make", "decision_sought", "refer-form"),
                    _textarea(
                        "Evidence you will bring",
                        "evidence",
                        "refer-form",
                        hint="Diary sheets, incident logs, reports.",
                    ),
                    rx.button("Refer the case", type="submit"),
                    spacing="3",
                    width="100%",
                    align="stretch",
                ),
                on_submit=MeetingState.refer,
                no_validate=True,
                id="refer-form",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def pack_section() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Meeting pack", size="5", as_="h2"),
            rx.spacer(),
            file_link("Download the pack (PDF)", MeetingState.m["pack_pdf"]),
            width="100%",
            align="center",
        ),
        rx.text(
            "What your organisation may see of each case on the agenda. Anything not shared with your "
            "organisation is marked as withheld.",
            size="2",
            color_scheme="gray",
        ),
        rx.box(shared_rows(MeetingState.pack), id="pack", width="100%"),
        width="100%",
        spacing="2",
    )


def preview_section() -> rx.Component:
    return rx.vstack(
        rx.heading("What each organisation will see", size="5", as_="h2"),
        rx.text(
            "For the cases your organisation leads on this agenda: what each member organisation will and will "
            "not see in its pack. To let a partner see more, ",
            rx.link("share it from the Share page", href=routes.SHARE, underline="always"),
            ".",
            size="2",
        ),
        rx.box(shared_rows(MeetingState.preview), id="pack-preview", width="100%"),
        width="100%",
        spacing="2",
    )


def minutes_section() -> rx.Component:
    status = MeetingState.minutes_status
    return rx.vstack(
        rx.hstack(
            rx.heading("Minutes", size="5", as_="h2"),
            rx.badge(
                rx.match(
                    status,
                    ("draft", MINUTES_LABELS["draft"]),
                    ("circulated", MINUTES_LABELS["circulated"]),
                    ("approved", MINUTES_LABELS["approved"]),
                    MINUTES_LABELS[""],
                ),
                color_scheme=rx.cond(status == "approved", "green", "gray"),
                high_contrast=True,
                id="minutes-status",
            ),
            rx.cond(status == "approved", rx.icon("lock", size=16, aria_hidden="true")),
            rx.spacer(),
            rx.cond(MeetingState.minutes_visible, file_link("Download your copy (PDF)", MeetingState.m["minutes_pdf"])),
            width="100%",
            align="center",
        ),
        rx.cond(
            MeetingState.is_chair & (status != "approved"),
            rx.hstack(
                rx.button(
                    rx.cond(status == "", "Draft the minutes", "Redraft from the record"),
                    variant="soft",
                    on_click=MeetingState.draft,
                ),
                rx.cond(status == "draft", rx.button("Circulate for comment", on_click=MeetingState.circulate)),
                rx.cond(
                    status != "", rx.button("Approve the minutes", color_scheme="green", on_click=MeetingState.approve)
                ),
                spacing="3",
                wrap="wrap",
            ),
        ),
        rx.cond(
            MeetingState.minutes_visible,
            rx.box(
                rx.text("Your organisation's copy: decisions appear as far as they were shared with you.", size="2"),
                shared_rows(MeetingState.minutes),
                id="minutes",
                width="100%",
            ),
            rx.text("The minutes have not been circulated yet.", size="2"),
        ),
        rx.cond(
            MeetingState.attended & (status == "circulated"),
            rx.form(
                rx.vstack(
                    _textarea("Your comment on the draft minutes", "comment", "comment-form"),
                    rx.button("Send the comment", type="submit"),
                    spacing="2",
                    width="100%",
                ),
                on_submit=MeetingState.comment,
                no_validate=True,
                id="comment-form",
                width="100%",
            ),
        ),
        width="100%",
        spacing="3",
    )


def decisions_section() -> rx.Component:
    return rx.vstack(
        rx.heading("Decisions and actions agreed", size="5", as_="h2"),
        rx.cond(
            MeetingState.decisions.length() > 0,  # type: ignore[attr-defined]
            rx.box(shared_rows(MeetingState.decisions), id="decisions", width="100%"),
            empty_state("No decisions are recorded for this meeting."),
        ),
        rx.cond(
            MeetingState.is_chair & (MeetingState.decision_options.length() > 0),  # type: ignore[attr-defined]
            rx.card(
                rx.form(
                    rx.vstack(
                        rx.heading("Amend a decision", size="3", as_="h3"),
                        rx.text(
                            "Once the minutes are approved a decision changes only by an amendment, recorded with "
                            "who made it and why.",
                            size="2",
                        ),
                        dynamic_select_input(
                            "Decision",
                            "decision_id",
                            MeetingState.decision_options,
                            field_id="amend-decision",
                            error=MeetingState.errors.get("amend-form:decision_id", ""),
                        ),
                        select_input(
                            "What to change",
                            "field_name",
                            AMEND_OPTIONS,
                            field_id="amend-field",
                            error=MeetingState.errors.get("amend-form:field_name", ""),
                        ),
                        _textarea("New wording", "new_value", "amend-form"),
                        _textarea("Why it is amended", "reason", "amend-form"),
                        rx.button("Record the amendment", type="submit"),
                        spacing="3",
                        width="100%",
                        align="stretch",
                    ),
                    on_submit=MeetingState.amend,
                    no_validate=True,
                    id="amend-form",
                ),
                width="100%",
            ),
        ),
        width="100%",
        spacing="3",
    )


@rx.page(route=routes.MEETING, title=f"Meeting · {PRODUCT_NAME}", on_load=MeetingState.load)
def meeting_page() -> rx.Component:
    status = MeetingState.m["status"]
    return page_shell(
        rx.cond(MeetingState.title != "", MeetingState.title, "Meeting"),  # type: ignore[arg-type]
        rx.cond(
            MeetingState.missing != "",
            rx.callout(MeetingState.missing, icon="ban", color_scheme="red", high_contrast=True, role="alert"),
            rx.vstack(
                meeting_header(),
                rx.cond(
                    MeetingState.agenda_visible,
                    agenda_section(),
                    rx.cond(
                        status != "cancelled",
                        empty_state(
                            "The agenda for this meeting has not been published yet.",
                            "Members see the agenda and pack once the chair publishes them.",
                        ),
                    ),
                ),
                rx.cond(MeetingState.is_chair & (status == "scheduled"), referrals_section()),
                rx.cond(MeetingState.can_refer & (status != "closed"), refer_section()),
                rx.cond(MeetingState.agenda_visible, pack_section()),
                rx.cond(MeetingState.owns_case, preview_section()),
                rx.cond(
                    MeetingState.is_member & ((status == "open") | (status == "closed")),
                    rx.vstack(decisions_section(), minutes_section(), spacing="5", width="100%"),
                ),
                spacing="5",
                width="100%",
            ),
        ),
        subtitle="Agenda, referrals, pack, decisions and minutes.",
    )

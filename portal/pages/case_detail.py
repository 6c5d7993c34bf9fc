"""One case: its header (status, stage, risk, first-contact deadline, ASB Case Review flag),
the people involved, risk, the incident diary with evidence, stage and closure,
interventions and legal remedies, ASB Case Review applications and the chronology.

Every read comes from :func:`panels.case_workspace.get_case_workspace` (through the
need-to-know chokepoint, so a partner sees only what was shared and every view is logged);
every change is one service call.  The forms show only to those who may act, but the services
are the guard."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

import reflex as rx
from sqlmodel import Session

from panels.case_review import complete_case_review, decide_case_review_threshold, record_case_review_application
from panels.case_workspace import CaseWorkspace, get_case_workspace, party_people
from panels.incidents import EvidenceKind, IncidentInput, IncidentRead, add_evidence, record_incident
from panels.parties import PartyInput, add_party
from panels.policy import RiskScheme
from panels.remedies import (
    IN_FORCE,
    DemotionOutcome,
    InterventionInput,
    InterventionRead,
    InterventionRefused,
    InterventionUpdate,
    end_demotion,
    record_intervention,
    record_witnesses_alerted,
    update_intervention,
)
from panels.risk import FirstContactStatus, RiskAssessmentRead, assess_risk, record_first_contact
from panels.stages import approve_closure, move_stage, record_stage_review, refuse_closure, reopen_case, request_closure
from panels.vocabulary import (
    CaseReviewOutcome,
    CaseStage,
    CaseStatus,
    ClosureReason,
    InterventionKind,
    InterventionStatus,
    PartyRole,
    Tenure,
)
from portal import routes
from portal.auth_state import AuthState
from portal.components.forms import (
    dialog_buttons,
    dynamic_select_input,
    reset_form,
    select_input,
    text_area,
    text_input,
)
from portal.components.layout import FILE_LINK, PRODUCT_NAME, empty_state, page_shell
from portal.formatting import local_time
from sharing.config import get_settings
from sharing.errors import DomainError, InvalidInput, NotFound, PermissionDenied, SessionExpired
from sharing.permissions import Actor
from sharing.reads import NOT_SHARED

NOT_SHARED_WITH_YOU = "This case has not been shared with your organisation."
NO_SUCH_CASE = "There is no such case."
EVIDENCE_UPLOAD_ID = "evidence-upload"

ROLE_OPTIONS = [(str(r), r.label) for r in PartyRole]
TENURE_OPTIONS = [(str(t), t.label) for t in Tenure]
CLOSURE_REASON_OPTIONS = [(str(r), r.label) for r in ClosureReason]
KIND_OPTIONS = [(str(k), k.label + (" (legal remedy)" if k.is_legal_remedy else "")) for k in InterventionKind]
EVIDENCE_OPTIONS = [(str(k), k.label[:1].upper() + k.label[1:]) for k in EvidenceKind]
UPDATE_STATUSES = (
    InterventionStatus.SERVED,
    InterventionStatus.BREACHED,
    InterventionStatus.ENDED,
    InterventionStatus.WITHDRAWN,
)
DEMOTION_PREFIX = "demotion:"

# The fields each form shows its errors at; any other error goes at the top of the form.
FORM_FIELDS: dict[str, tuple[str, ...]] = {
    "party": ("person_id", "role", "tenure", "landlord", "vulnerability", "support_services"),
    "contact": ("contacted_at", "note"),
    "incident": (
        "occurred_at",
        "what_happened",
        "reported_by",
        "perpetrator_person_id",
        "crime_reference",
        "effect_on_victim",
    ),
    "evidence": ("kind", "file", "description"),
    "move": ("to_stage", "reason"),
    "review": ("reviewed_on", "note"),
    "closure": ("reason", "note"),
    "approve": ("victim_told_of_case_review",),
    "refuse": ("reason",),
    "reopen": ("reason",),
    "intervention": ("kind", "served_on", "subject_person_id", "details", "authorised_by"),
    "update": ("status", "happened_on", "note", "outcome", "ended_on"),
    "application": ("received_on", "applicant"),
    "decide": ("application", "decided_on", "reason"),
    "complete": ("application", "completed_on", "outcome"),
}


# --- Pure helpers (unit-tested) ---------------------------------------------------------------


class QuestionRow(TypedDict):
    key: str
    label: str
    options: list[dict[str, str]]  # value, label, id


class ItemRow(TypedDict):
    id: str
    heading: str
    fields: list[dict[str, str]]  # label, value, withheld ("yes" or "")
    evidence: list[dict[str, str]]


class InterventionRow(TypedDict):
    id: str
    heading: str
    status: str
    legal: str  # "yes" for a legal remedy
    dates: list[str]
    details: str
    outcome: str
    alerts: list[str]
    choices: list[dict[str, str]]  # what it can become next (value, label)
    can_alert_witnesses: str  # "yes" when witnesses may be told it is expiring


def form_errors(form: str, field_errors: dict[str, str]) -> dict[str, str]:
    """A service's field errors keyed ``form.field`` for the fields the form shows; the rest
    joined under ``form`` (shown at the top of the form) so nothing is lost."""
    shown = FORM_FIELDS.get(form, ())
    errors = {f"{form}.{field}": message for field, message in field_errors.items() if field in shown}
    rest = [message for field, message in field_errors.items() if field not in shown]
    if rest:
        errors[form] = " ".join(rest)
    return errors


def _zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def parse_local_datetime(raw: str) -> tuple[datetime | None, str]:
    """A ``datetime-local`` value (local time where the portal is used) as an aware datetime;
    empty gives ``(None, "")``, anything unreadable an error message."""
    raw = raw.strip()
    if not raw:
        return None, ""
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None, "Enter the date and time as day, month, year, hours and minutes."
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_zone())
    return moment, ""


def parse_day(raw: str) -> tuple[date | None, str]:
    raw = raw.strip()
    if not raw:
        return None, ""
    try:
        return date.fromisoformat(raw), ""
    except ValueError:
        return None, "Enter the date as day, month and year."


def optional_id(raw: object) -> int | None:
    text = str(raw or "").strip()
    return int(text) if text.isdigit() else None


def ticked(value: object) -> bool:
    """Whether a checkbox was ticked: the browser sends "on", or ``True`` when Reflex reads the
    box through its reference (a box with an id)."""
    return value is True or str(value).lower() in ("on", "true")


def split_list(raw: str) -> list[str]:
    """Support services typed one per line or separated by commas."""
    return [part.strip() for line in raw.splitlines() for part in line.split(",") if part.strip()]


def short_day(day: date | None) -> str:
    return f"{day:%-d %b %Y}" if day is not None else ""


def first_contact_text(status: str, due: datetime | None) -> str:
    """What the header says about first contact."""
    when = local_time(due, empty="")
    if status == FirstContactStatus.OVERDUE:
        return f"Overdue: it was due by {when}"
    if status == FirstContactStatus.MET_ON_TIME:
        return "Made on time"
    if status == FirstContactStatus.MET_LATE:
        return f"Made late (it was due by {when})"
    if due is not None:
        return f"Due by {when}"
    return "Not set: assess the risk to set the deadline"


def risk_colour(rank: int, top_rank: int) -> str:
    """The badge colour of a risk level: red for the most serious, grey when not assessed."""
    if rank <= 0:
        return "gray"
    if rank >= top_rank:
        return "red"
    if rank == 1:
        return "green"
    return "orange"


def file_size(size_bytes: int) -> str:
    if size_bytes < 1024:
        return f"{size_bytes} bytes"
    if size_bytes < 1024 * 1024:
        return f"{size_bytes / 1024:.1f} KB"
    return f"{size_bytes / (1024 * 1024):.1f} MB"


def question_rows(scheme: RiskScheme | None) -> list[QuestionRow]:
    if scheme is None:
        return []
    return [
        QuestionRow(
            key=q.key,
            label=q.label,
            options=[{"value": o.key, "label": o.label, "id": f"risk-{q.key}-{o.key}"} for o in q.options],
        )
        for q in scheme.questions
    ]


def _fields(fields: Iterable[Any]) -> list[dict[str, str]]:
    return [{"label": f.label, "value": f.value, "withheld": "yes" if f.withheld else ""} for f in fields]


def incident_row(read: IncidentRead) -> ItemRow:
    when = next((f.value for f in read.view.fields if f.key == "occurred_at"), "")
    return ItemRow(
        id=str(read.id),
        heading=f"Incident on {when}" if when else read.view.title,
        fields=_fields(f for f in read.view.fields if f.key != "occurred_at"),
        evidence=[
            {
                "name": e.filename,
                "href": routes.evidence_file(e.id),
                "kind": e.kind.capitalize(),
                "type": e.content_type,
                "size": file_size(e.size_bytes),
                "sha256": e.sha256,
                "description": e.description,
            }
            for e in read.evidence
        ],
    )


def assessment_row(read: RiskAssessmentRead) -> ItemRow:
    return ItemRow(
        id=str(read.id),
        heading=f"Assessed {local_time(read.assessed_at)}",
        fields=_fields(read.view.fields),
        evidence=[],
    )


def _next_choices(read: InterventionRead) -> list[dict[str, str]]:
    status = InterventionStatus(read.status)
    choices: list[dict[str, str]] = []
    if status == InterventionStatus.PLANNED:
        choices.append({"value": InterventionStatus.SERVED, "label": "Served (or started)"})
    if status in IN_FORCE:
        if status == InterventionStatus.SERVED:
            choices.append({"value": InterventionStatus.BREACHED, "label": "Breached"})
        if read.kind == InterventionKind.DEMOTION_ORDER:
            choices += [{"value": DEMOTION_PREFIX + o, "label": o.label} for o in DemotionOutcome]
        else:
            choices.append({"value": InterventionStatus.ENDED, "label": "Ended"})
    if status in (InterventionStatus.PLANNED, *IN_FORCE):
        choices.append({"value": InterventionStatus.WITHDRAWN, "label": "Withdrawn"})
    return choices


def intervention_row(read: InterventionRead, names: dict[int, str]) -> InterventionRow:
    about = names.get(read.subject_person_id, "") if read.subject_person_id is not None else ""
    dates = [
        label + " " + short_day(day)
        for label, day in (
            ("Served", read.served_on),
            ("Tenant may ask for a review until", read.review_request_by),
            ("Proceedings from", read.earliest_proceedings_on),
            ("Review on", read.review_on),
            ("Expires", read.expires_on),
            ("Monitoring ends", read.monitoring_ends_on),
            ("Ended", read.ended_on),
        )
        if day is not None
    ]
    if read.witnesses_alerted_at is not None:
        dates.append("Witnesses alerted " + local_time(read.witnesses_alerted_at))
    return InterventionRow(
        id=str(read.id),
        heading=read.kind_label + (f" on {about}" if about else ""),
        status=read.status_label,
        legal="yes" if read.is_legal_remedy else "",
        dates=dates,
        details=read.details,
        outcome=read.outcome,
        alerts=list(read.alerts),
        choices=_next_choices(read),
        can_alert_witnesses="yes"
        if read.kind == InterventionKind.NOTICE_OF_SEEKING_POSSESSION and read.status in IN_FORCE
        else "",
    )


def _options(pairs: Iterable[tuple[object, str]]) -> list[dict[str, str]]:
    return [{"value": str(value), "label": label} for value, label in pairs]


# --- State ---------------------------------------------------------------------------------------


class CaseState(AuthState):
    case_id: int = 0
    plan_href: str = ""
    refused: str = ""
    loaded: bool = False
    reference: str = ""
    access: str = ""
    lead_organisation: str = ""
    is_lead: bool = False
    can_manage_case: bool = False
    can_approve_closure: bool = False
    can_record_incidents: bool = False
    can_manage_case_review: bool = False
    status: str = ""
    status_label: str = ""
    stage_label: str = ""
    risk_label: str = ""
    risk_colour: str = "gray"
    first_contact: str = ""
    first_contact_overdue: bool = False
    first_contact_open: bool = False  # first contact still to be recorded
    case_review_met: bool = False
    case_review_reasons: list[str] = []
    alerts: list[str] = []
    summary: list[dict[str, str]] = []
    parties: list[dict[str, str]] = []
    lead_suggestion: dict[str, str] = {}
    people: list[dict[str, str]] = []
    subjects: list[dict[str, str]] = []
    stage_options: list[dict[str, str]] = []
    scheme_name: str = ""
    questions: list[QuestionRow] = []
    risk_result: dict[str, str] = {}
    assessments: list[ItemRow] = []
    incidents: list[ItemRow] = []
    interventions: list[InterventionRow] = []
    prior_options: list[dict[str, str]] = []
    closure_requested: bool = False
    closure_reason: str = ""
    closure_note: str = ""
    closure_requested_by: str = ""
    closure_requested_by_me: bool = False
    closed_on: str = ""
    case_review_policy: str = ""
    case_review_check: list[str] = []
    applications: list[dict[str, str]] = []
    awaiting_options: list[dict[str, str]] = []
    met_options: list[dict[str, str]] = []
    chronology: list[dict[str, str]] = []
    dialog: str = ""
    errors: dict[str, str] = {}
    evidence_incident_id: int = 0
    evidence_incident: str = ""
    upload_name: str = ""
    update_intervention_id: int = 0
    update_heading: str = ""
    update_choices: list[dict[str, str]] = []
    _upload: tuple[str, str, bytes] | None = None

    # --- reading ---

    def _apply(self, ws: CaseWorkspace) -> None:
        page, header = ws.page, ws.header
        self.loaded = True
        self.reference = page.reference
        self.access = page.access
        self.lead_organisation = page.lead_organisation
        self.is_lead = ws.is_lead
        self.can_manage_case = ws.can_manage
        self.can_approve_closure = ws.can_approve_closure
        self.can_record_incidents = ws.can_record_incidents
        self.can_manage_case_review = ws.can_manage_case_review
        self.status = header.status
        self.status_label = header.status_label
        self.stage_label = header.stage_label
        self.risk_label = header.risk_label
        self.risk_colour = risk_colour(header.risk_rank, header.top_rank)
        self.first_contact = first_contact_text(header.first_contact_status, header.first_contact_due_at)
        self.first_contact_overdue = header.first_contact_status == FirstContactStatus.OVERDUE
        self.first_contact_open = header.first_contact_status in (
            FirstContactStatus.DUE,
            FirstContactStatus.OVERDUE,
            FirstContactStatus.NOT_SET,
        )
        self.case_review_met = header.case_review_met
        self.case_review_reasons = list(header.case_review_reasons)
        self.alerts = list(header.alerts)
        self.summary = _fields(page.summary)
        self.parties = [
            {
                "name": p.name,
                "withheld": "yes" if p.name_withheld else "",
                "role": p.role_label,
                "tenure": p.tenure_label,
                "landlord": p.landlord,
                "vulnerability": p.vulnerability,
                "support": ", ".join(p.support_services),
            }
            for p in page.parties
        ]
        s = ws.lead_suggestion
        self.lead_suggestion = {"lead": s.lead, "explanation": s.explanation} if s is not None else {}
        self.people = _options((p.person_id, p.name) for p in ws.people)
        self.subjects = _options((p.person_id, f"{p.name} ({p.role_label.lower()})") for p in party_people(page))
        current = CaseStage(header.stage) if header.stage else None
        self.stage_options = _options((s, s.label) for s in CaseStage if s not in (CaseStage.CLOSURE, current))
        self.scheme_name = ws.scheme.name if ws.scheme is not None else ""
        self.questions = question_rows(ws.scheme)
        self.assessments = [assessment_row(a) for a in ws.assessments]
        self.incidents = [incident_row(i) for i in ws.incidents]
        names = {p.person_id: p.name for p in page.parties}
        self.interventions = [intervention_row(i, names) for i in ws.interventions]
        self.prior_options = _options(
            (i.id, f"{i.kind_label}, served {short_day(i.served_on)}")
            for i in ws.interventions
            if i.served_on is not None
        )
        closure = ws.closure
        self.closure_requested = closure is not None and closure.requested
        self.closure_reason = closure.reason_label if closure is not None else ""
        self.closure_note = closure.note if closure is not None else ""
        self.closure_requested_by = closure.requested_by if closure is not None else ""
        self.closure_requested_by_me = closure is not None and closure.requested_by_reader
        self.closed_on = local_time(closure.closed_at, empty="") if closure is not None else ""
        check = ws.case_review
        self.case_review_policy = check.policy_name if check is not None else ""
        self.case_review_check = check.reasons if check is not None else []
        self.applications = [
            {
                "id": str(a.id),
                "heading": f"Application received {short_day(a.received_on)} from {a.applicant}",
                "status": a.status_label,
                "check": " ".join(a.threshold_check),
                "decision": (
                    f"Decided {short_day(a.threshold_decided_on)}"
                    + (f": {a.threshold_reason}" if a.threshold_reason else "")
                )
                if a.threshold_decided_on
                else "",
                "outcome": f"Review completed {short_day(a.review_completed_on)}: {a.review_outcome}"
                if a.review_completed_on
                else "",
            }
            for a in ws.applications
        ]
        self.awaiting_options = _options(
            (a.id, f"Received {short_day(a.received_on)} from {a.applicant}")
            for a in ws.applications
            if a.status == CaseReviewOutcome.AWAITING_DECISION
        )
        self.met_options = _options(
            (a.id, f"Received {short_day(a.received_on)} from {a.applicant}")
            for a in ws.applications
            if a.status == CaseReviewOutcome.THRESHOLD_MET
        )
        self.chronology = [
            {
                "when": local_time(e.occurred_at),
                "kind": e.kind_label,
                "summary": e.summary,
                "by": ", ".join(part for part in (e.by_name, e.by_organisation) if part),
            }
            for e in page.chronology
        ]

    def _reload(self, session: Session, actor: Actor) -> None:
        self._apply(get_case_workspace(session=session, actor=actor, case_id=self.case_id))

    def _refuse(self, message: str) -> Any:
        """Show why the case cannot be shown, in the signed-in shell."""
        self.refused = message
        return self._show_signed_in()

    @rx.event
    def load(self) -> Any:
        raw = self._route_arg("case_id")
        self.refused, self.reference, self.loaded, self.dialog = "", "", False, ""
        self.errors, self.risk_result = {}, {}
        if not raw.isdigit():
            return self._refuse(NO_SUCH_CASE)
        self.case_id = int(raw)
        self.plan_href = routes.case_plan(self.case_id)

        def _read(session: Session, actor: Actor) -> Actor:
            self._reload(session, actor)
            return actor

        try:
            actor = self._run(_read)
        except SessionExpired as error:
            return self._to_sign_in(error.message)
        except PermissionDenied as error:
            return self._refuse(NOT_SHARED_WITH_YOU if error.message == NOT_SHARED else error.message)
        except NotFound:
            return self._refuse(NO_SUCH_CASE)
        except DomainError as error:
            return self._refuse(error.message)
        self._show(actor)
        return None

    # --- acting ---

    def _act(
        self,
        form: str,
        action: Callable[[Session, Actor], object],
        done: str,
        *,
        reset: str = "",
        close: bool = False,
    ) -> Any:
        """Run one service call and reload the page in the same transaction.  Field errors go
        to the form's fields (what was typed stays in the form); what the law refuses goes at
        the top of the form; anything else is said in a toast."""
        self.errors = {}

        def _do(session: Session, actor: Actor) -> None:
            action(session, actor)
            self._reload(session, actor)

        try:
            self._run(_do)
        except InvalidInput as error:
            if form not in FORM_FIELDS:
                return rx.toast.error(" ".join(error.field_errors.values()) or error.message, duration=8000)
            self.errors = form_errors(form, error.field_errors)
            return None
        except InterventionRefused as error:
            self.errors = {form: error.message}
            return None
        except DomainError as error:
            return self._handle(error)
        events: list[Any] = []
        if reset:
            events.append(reset_form(reset))
        if close:
            self.dialog = ""
        events.append(rx.toast.success(done))
        return events

    def _open(self, name: str) -> None:
        self.errors = {}
        self.dialog = name

    @rx.event
    def open_dialog(self, name: str) -> None:
        self._open(name)

    @rx.event
    def set_dialog_open(self, value: bool) -> None:
        if not value:
            self.dialog = ""

    @rx.event
    def save_party(self, form_data: dict[str, Any]) -> Any:
        person_id = optional_id(form_data.get("person_id"))
        if person_id is None:
            self.errors = {"party.person_id": "Choose the person to add."}
            return None
        data = PartyInput(
            person_id=person_id,
            role=str(form_data.get("role", "")),
            tenure=str(form_data.get("tenure", "")) or Tenure.NOT_KNOWN,
            landlord=str(form_data.get("landlord", "")),
            vulnerability=str(form_data.get("vulnerability", "")),
            support_services=split_list(str(form_data.get("support_services", ""))),
        )
        case_id = self.case_id
        return self._act(
            "party",
            lambda session, actor: add_party(session=session, actor=actor, case_id=case_id, data=data),
            "Added to the case.",
            close=True,
        )

    @rx.event
    def save_risk(self, form_data: dict[str, Any]) -> Any:
        answers = {q["key"]: str(form_data.get(q["key"], "")) for q in self.questions}
        case_id = self.case_id
        result: dict[str, str] = {}

        def _assess(session: Session, actor: Actor) -> None:
            assessment = assess_risk(session=session, actor=actor, case_id=case_id, answers=answers)
            result.update(
                {
                    "score": str(assessment.score),
                    "level": assessment.level_label,
                    "override": assessment.override_reason,
                }
            )

        events = self._act("risk", _assess, "Risk assessed.", close=True)
        if result:
            result["deadline"] = self.first_contact
            self.risk_result = result
        return events

    @rx.event
    def save_first_contact(self, form_data: dict[str, Any]) -> Any:
        contacted_at, problem = parse_local_datetime(str(form_data.get("contacted_at", "")))
        if contacted_at is None:
            self.errors = {"contact.contacted_at": problem or "Give the date and time of first contact."}
            return None
        note = str(form_data.get("contact_note", ""))
        case_id = self.case_id
        return self._act(
            "contact",
            lambda session, actor: record_first_contact(
                session=session, actor=actor, case_id=case_id, contacted_at=contacted_at, note=note
            ),
            "First contact recorded.",
            reset="contact-form",
        )

    @rx.event
    def save_incident(self, form_data: dict[str, Any]) -> Any:
        occurred_at, problem = parse_local_datetime(str(form_data.get("occurred_at", "")))
        if problem:
            self.errors = {"incident.occurred_at": problem}
            return None
        data = IncidentInput(
            occurred_at=occurred_at,
            what_happened=str(form_data.get("what_happened", "")),
            reported_by_person_id=optional_id(form_data.get("reporter_person_id")),
            reported_by_name=str(form_data.get("reporter_name", "")),
            perpetrator_person_id=optional_id(form_data.get("perpetrator_person_id")),
            is_hate=ticked(form_data.get("is_hate")),
            police_called=ticked(form_data.get("police_called")),
            crime_reference=str(form_data.get("crime_reference", "")),
            effect_on_victim=str(form_data.get("effect_on_victim", "")),
        )
        case_id = self.case_id
        return self._act(
            "incident",
            lambda session, actor: record_incident(session=session, actor=actor, case_id=case_id, data=data),
            "Incident added to the diary.",
            close=True,
        )

    @rx.event
    def open_evidence(self, incident_id: str, heading: str) -> None:
        self.evidence_incident_id = int(incident_id)
        self.evidence_incident = heading
        self.upload_name = ""
        self._upload = None
        self._open("evidence")

    @rx.event
    async def receive_evidence(self, files: list[rx.UploadFile]) -> None:
        if not files:
            return
        upload = files[0]
        content = await upload.read()
        self._upload = (upload.name or "evidence", upload.content_type or "", content)
        self.upload_name = upload.name or "evidence"

    @rx.event
    def save_evidence(self, form_data: dict[str, Any]) -> Any:
        filename, content_type, content = self._upload or ("", "", b"")
        kind = str(form_data.get("evidence_kind", ""))
        description = str(form_data.get("evidence_description", ""))
        incident_id = self.evidence_incident_id
        events = self._act(
            "evidence",
            lambda session, actor: add_evidence(
                session=session,
                actor=actor,
                incident_id=incident_id,
                kind=kind,
                filename=filename,
                content_type=content_type,
                content=content,
                description=description,
            ),
            "Evidence added.",
            close=True,
        )
        if self.dialog == "":
            self._upload, self.upload_name = None, ""
        return events

    @rx.event
    def save_move(self, form_data: dict[str, Any]) -> Any:
        to_stage, reason, case_id = (
            str(form_data.get("to_stage", "")),
            str(form_data.get("move_reason", "")),
            self.case_id,
        )
        return self._act(
            "move",
            lambda session, actor: move_stage(
                session=session, actor=actor, case_id=case_id, to_stage=to_stage, reason=reason
            ),
            "Stage changed.",
            reset="move-form",
        )

    @rx.event
    def save_review(self, form_data: dict[str, Any]) -> Any:
        reviewed_on, problem = parse_day(str(form_data.get("reviewed_on", "")))
        if reviewed_on is None:
            self.errors = {"review.reviewed_on": problem or "Give the date of the review."}
            return None
        note, case_id = str(form_data.get("review_note", "")), self.case_id
        return self._act(
            "review",
            lambda session, actor: record_stage_review(
                session=session, actor=actor, case_id=case_id, reviewed_on=reviewed_on, note=note
            ),
            "Review recorded.",
            reset="review-form",
        )

    @rx.event
    def save_closure_request(self, form_data: dict[str, Any]) -> Any:
        reason, note = str(form_data.get("closure_reason", "")), str(form_data.get("closure_note", ""))
        case_id = self.case_id
        return self._act(
            "closure",
            lambda session, actor: request_closure(
                session=session, actor=actor, case_id=case_id, reason=reason, note=note
            ),
            "Closure asked for. A team manager decides.",
            reset="closure-form",
        )

    @rx.event
    def save_approval(self, form_data: dict[str, Any]) -> Any:
        told, case_id = ticked(form_data.get("victim_told")), self.case_id
        return self._act(
            "approve",
            lambda session, actor: approve_closure(
                session=session, actor=actor, case_id=case_id, victim_told_of_case_review=told
            ),
            "Case closed.",
        )

    @rx.event
    def save_refusal(self, form_data: dict[str, Any]) -> Any:
        reason, case_id = str(form_data.get("refuse_reason", "")), self.case_id
        return self._act(
            "refuse",
            lambda session, actor: refuse_closure(session=session, actor=actor, case_id=case_id, reason=reason),
            "Closure refused: the case stays open.",
        )

    @rx.event
    def save_reopen(self, form_data: dict[str, Any]) -> Any:
        reason, case_id = str(form_data.get("reopen_reason", "")), self.case_id
        return self._act(
            "reopen",
            lambda session, actor: reopen_case(session=session, actor=actor, case_id=case_id, reason=reason),
            "Case reopened.",
        )

    @rx.event
    def save_intervention(self, form_data: dict[str, Any]) -> Any:
        served_on, problem = parse_day(str(form_data.get("served_on", "")))
        if problem:
            self.errors = {"intervention.served_on": problem}
            return None
        data = InterventionInput(
            kind=str(form_data.get("kind", "")),
            status=InterventionStatus.SERVED if served_on is not None else InterventionStatus.PLANNED,
            served_on=served_on,
            subject_person_id=optional_id(form_data.get("subject_person_id")),
            prior_intervention_id=optional_id(form_data.get("prior_intervention_id")),
            all_parties_consent=ticked(form_data.get("all_parties_consent")),
            details=str(form_data.get("details", "")),
            authorised_by=str(form_data.get("authorised_by", "")),
        )
        case_id = self.case_id
        return self._act(
            "intervention",
            lambda session, actor: record_intervention(session=session, actor=actor, case_id=case_id, data=data),
            "Intervention recorded.",
            close=True,
        )

    @rx.event
    def open_update(self, intervention_id: str) -> None:
        row = next((i for i in self.interventions if i["id"] == intervention_id), None)
        if row is None:
            return
        self.update_intervention_id = int(intervention_id)
        self.update_heading = row["heading"]
        self.update_choices = row["choices"]
        self._open("update")

    @rx.event
    def save_update(self, form_data: dict[str, Any]) -> Any:
        choice = str(form_data.get("update_status", ""))
        happened_on, problem = parse_day(str(form_data.get("happened_on", "")))
        if problem:
            self.errors = {"update.happened_on": problem}
            return None
        note, intervention_id = str(form_data.get("update_note", "")), self.update_intervention_id
        if choice.startswith(DEMOTION_PREFIX):
            outcome = choice.removeprefix(DEMOTION_PREFIX)
            return self._act(
                "update",
                lambda session, actor: end_demotion(
                    session=session,
                    actor=actor,
                    intervention_id=intervention_id,
                    outcome=outcome,
                    note=note,
                    ended_on=happened_on,
                ),
                "Demotion Order ended.",
                close=True,
            )
        change = InterventionUpdate(status=choice, happened_on=happened_on, note=note)
        return self._act(
            "update",
            lambda session, actor: update_intervention(
                session=session, actor=actor, intervention_id=intervention_id, change=change
            ),
            "Intervention updated.",
            close=True,
        )

    @rx.event
    def alert_witnesses(self, intervention_id: str) -> Any:
        return self._act(
            "witnesses",
            lambda session, actor: record_witnesses_alerted(
                session=session, actor=actor, intervention_id=int(intervention_id)
            ),
            "Recorded that witnesses were alerted.",
        )

    @rx.event
    def save_application(self, form_data: dict[str, Any]) -> Any:
        received_on, problem = parse_day(str(form_data.get("received_on", "")))
        if received_on is None:
            self.errors = {"application.received_on": problem or "Give the date the application was received."}
            return None
        person_id = optional_id(form_data.get("applicant_person_id"))
        name, case_id = str(form_data.get("applicant_name", "")), self.case_id
        return self._act(
            "application",
            lambda session, actor: record_case_review_application(
                session=session,
                actor=actor,
                case_id=case_id,
                received_on=received_on,
                applicant_person_id=person_id,
                applicant_name=name,
            ),
            "ASB Case Review application recorded.",
            reset="application-form",
        )

    @rx.event
    def save_decision(self, form_data: dict[str, Any]) -> Any:
        application_id = optional_id(form_data.get("decide_application"))
        decided_on, problem = parse_day(str(form_data.get("decided_on", "")))
        errors: dict[str, str] = {}
        if application_id is None:
            errors["decide.application"] = "Choose the application."
        if decided_on is None:
            errors["decide.decided_on"] = problem or "Give the date of the decision."
        met = str(form_data.get("threshold_met", ""))
        if met not in ("yes", "no"):
            errors["decide.met"] = "Say whether the threshold is met."
        if errors or application_id is None or decided_on is None:
            self.errors = errors
            return None
        reason = str(form_data.get("decide_reason", ""))
        return self._act(
            "decide",
            lambda session, actor: decide_case_review_threshold(
                session=session,
                actor=actor,
                application_id=application_id,
                met=met == "yes",
                decided_on=decided_on,
                reason=reason,
            ),
            "Threshold decision recorded.",
            reset="decide-form",
        )

    @rx.event
    def save_completion(self, form_data: dict[str, Any]) -> Any:
        application_id = optional_id(form_data.get("complete_application"))
        completed_on, problem = parse_day(str(form_data.get("completed_on", "")))
        errors: dict[str, str] = {}
        if application_id is None:
            errors["complete.application"] = "Choose the application."
        if completed_on is None:
            errors["complete.completed_on"] = problem or "Give the date the review was completed."
        if errors or application_id is None or completed_on is None:
            self.errors = errors
            return None
        outcome = str(form_data.get("review_outcome", ""))
        return self._act(
            "complete",
            lambda session, actor: complete_case_review(
                session=session,
                actor=actor,
                application_id=application_id,
                completed_on=completed_on,
                outcome=outcome,
            ),
            "ASB Case Review completed.",
            reset="complete-form",
        )

    @rx.var
    def heading(self) -> str:
        return f"Case {self.reference}" if self.reference else "Case"


# --- Components ----------------------------------------------------------------------------------


def _error(key: Any) -> rx.Component:
    message = CaseState.errors.get(key, "")
    return rx.cond(message != "", rx.text(message, color_scheme="red", size="2", role="alert"))


def _form_problem(form: str) -> rx.Component:
    """A form's message that belongs to no single field (e.g. what the law refuses)."""
    message = CaseState.errors.get(form, "")
    return rx.cond(
        message != "",
        rx.callout(
            message,
            icon="ban",
            color_scheme="red",
            high_contrast=True,
            role="alert",
            id=f"{form}-problem",
            width="100%",
        ),
    )


def _checkbox(name: str, label: str) -> rx.Component:
    field_id = name.replace("_", "-")
    return rx.el.label(
        rx.el.input(type="checkbox", name=name, id=field_id),
        " " + label,
        html_for=field_id,
        class_name="checkbox-label",
    )


def _dialog(name: str, title: str | rx.Var[str], *children: rx.Component, width: str = "640px") -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(title),
            *children,
            max_width=width,
        ),
        open=CaseState.dialog == name,
        on_open_change=CaseState.set_dialog_open,
    )


def _fields_list(fields: Any) -> rx.Component:
    return rx.data_list.root(
        rx.foreach(
            fields,
            lambda f: rx.data_list.item(
                rx.data_list.label(f["label"]),
                rx.data_list.value(
                    rx.cond(
                        f["withheld"] == "yes",
                        rx.text(f["value"], color_scheme="gray", style={"font_style": "italic"}),
                        rx.text(f["value"], style={"white_space": "pre-wrap"}),
                    )
                ),
            ),
        ),
        orientation=rx.breakpoints(initial="vertical", md="horizontal"),
    )


def _risk_badge() -> rx.Component:
    def badge(colour: str) -> rx.Component:
        return rx.badge(
            "Risk: ", CaseState.risk_label, color_scheme=colour, variant="solid", high_contrast=True, size="3",
            id="risk-badge",
        )  # fmt: skip

    return rx.match(
        CaseState.risk_colour,
        ("red", badge("red")),
        ("orange", badge("orange")),
        ("green", badge("green")),
        badge("gray"),
    )


def _header() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.badge("Status: ", CaseState.status_label, variant="surface", high_contrast=True, size="3"),
                rx.badge("Stage: ", CaseState.stage_label, variant="surface", high_contrast=True, size="3"),
                _risk_badge(),
                spacing="3",
                wrap="wrap",
                align="center",
            ),
            rx.hstack(
                rx.text("First contact:", weight="medium"),
                rx.cond(
                    CaseState.first_contact_overdue,
                    rx.text(CaseState.first_contact, color_scheme="red", weight="bold", id="first-contact"),
                    rx.text(CaseState.first_contact, id="first-contact"),
                ),
                spacing="2",
                wrap="wrap",
            ),
            rx.hstack(
                rx.text("Led by ", CaseState.lead_organisation, size="2"),
                rx.link(
                    rx.hstack(rx.icon("list-checks", size=16, aria_hidden="true"), rx.text("Action plan"), spacing="1"),
                    href=CaseState.plan_href,
                    id="case-plan-link",
                    size="2",
                ),
                spacing="4",
                wrap="wrap",
                align="center",
            ),
            rx.cond(
                CaseState.case_review_met,
                rx.callout(
                    rx.vstack(
                        rx.text("ASB Case Review threshold met", weight="bold"),
                        rx.foreach(CaseState.case_review_reasons, lambda r: rx.text(r, size="2")),
                        spacing="1",
                    ),
                    icon="flag",
                    color_scheme="amber",
                    high_contrast=True,
                    role="status",
                    id="case-review-flag",
                    width="100%",
                ),
            ),
            rx.foreach(
                CaseState.alerts,
                lambda a: rx.callout(a, icon="clock", color_scheme="orange", high_contrast=True, width="100%"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


# Summary and parties


def _party_dialog() -> rx.Component:
    e = CaseState.errors
    return _dialog(
        "party",
        "Add someone to the case",
        rx.form(
            rx.vstack(
                _form_problem("party"),
                rx.cond(
                    CaseState.people.length() > 0,  # type: ignore[attr-defined]
                    dynamic_select_input("Person", "person_id", CaseState.people, error=e.get("party.person_id", "")),
                    rx.text("Your organisation holds no one's record yet: add the person on the People page first."),
                ),
                select_input("Part in the case", "role", ROLE_OPTIONS, error=e.get("party.role", "")),
                select_input(
                    "Tenure", "tenure", TENURE_OPTIONS, error=e.get("party.tenure", ""), placeholder="Not known"
                ),
                text_input("Landlord (optional)", "landlord", error=e.get("party.landlord", "")),
                text_area("Vulnerability (optional)", "vulnerability", error=e.get("party.vulnerability", ""), rows=3),
                text_area(
                    "Support services (optional)",
                    "support_services",
                    error=e.get("party.support_services", ""),
                    hint="One per line, e.g. Adult Social Care, Victim Support.",
                    rows=3,
                ),
                dialog_buttons("Add to the case"),
                spacing="3",
                width="100%",
            ),
            on_submit=CaseState.save_party,
            no_validate=True,
            id="party-form",
        ),
    )


def _summary_tab() -> rx.Component:
    return rx.vstack(
        rx.heading("Summary", size="5", as_="h2"),
        _fields_list(CaseState.summary),
        rx.hstack(
            rx.heading("People involved", size="5", as_="h2"),
            rx.spacer(),
            rx.cond(CaseState.can_manage_case, rx.button("Add a party", on_click=CaseState.open_dialog("party"))),
            width="100%",
            align="center",
        ),
        rx.cond(
            CaseState.lead_suggestion.get("lead", "") != "",
            rx.callout(
                rx.text(
                    rx.text.strong("Suggested lead: ", CaseState.lead_suggestion.get("lead", "")),
                    ". ",
                    CaseState.lead_suggestion.get("explanation", ""),
                ),
                icon="lightbulb",
                color_scheme="blue",
                high_contrast=True,
                id="lead-suggestion",
                width="100%",
            ),
        ),
        rx.cond(
            CaseState.parties.length() > 0,  # type: ignore[attr-defined]
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(h)
                            for h in ("Name", "Part", "Tenure", "Landlord", "Vulnerability", "Support services")
                        ]
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        CaseState.parties,
                        lambda p: rx.table.row(
                            rx.table.row_header_cell(p["name"]),
                            rx.table.cell(p["role"]),
                            rx.table.cell(p["tenure"]),
                            rx.table.cell(p["landlord"]),
                            rx.table.cell(p["vulnerability"]),
                            rx.table.cell(p["support"]),
                        ),
                    )
                ),
                variant="surface",
                width="100%",
            ),
            empty_state("Nobody has been added to this case yet (or nobody's details were shared with you)."),
        ),
        _party_dialog(),
        spacing="4",
        width="100%",
    )


# Risk


def _risk_dialog() -> rx.Component:
    return _dialog(
        "risk",
        "Risk assessment",
        rx.text(CaseState.scheme_name, size="2", color_scheme="gray"),
        rx.form(
            rx.vstack(
                _form_problem("risk"),
                rx.foreach(
                    CaseState.questions,
                    lambda q: rx.el.fieldset(
                        rx.el.legend(q["label"], class_name="field-label"),
                        rx.vstack(
                            rx.foreach(
                                q["options"],
                                lambda o: rx.el.label(
                                    rx.el.input(type="radio", name=q["key"], value=o["value"], id=o["id"]),
                                    " ",
                                    o["label"],
                                    html_for=o["id"],
                                    class_name="checkbox-label",
                                ),
                            ),
                            spacing="1",
                        ),
                        _error("risk." + q["key"]),
                        class_name="fieldset",
                        width="100%",
                    ),
                ),
                dialog_buttons("Save assessment"),
                spacing="3",
                width="100%",
            ),
            on_submit=CaseState.save_risk,
            no_validate=True,
            id="risk-form",
        ),
        width="720px",
    )


def _risk_tab() -> rx.Component:
    e = CaseState.errors
    return rx.vstack(
        rx.hstack(
            rx.heading("Risk", size="5", as_="h2"),
            rx.spacer(),
            rx.cond(CaseState.can_manage_case, rx.button("Assess risk", on_click=CaseState.open_dialog("risk"))),
            width="100%",
            align="center",
        ),
        rx.cond(
            CaseState.risk_result.get("level", "") != "",
            rx.callout(
                rx.vstack(
                    rx.text(
                        rx.text.strong("Result: ", CaseState.risk_result.get("level", "")),
                        ", score ",
                        CaseState.risk_result.get("score", ""),
                    ),
                    rx.cond(
                        CaseState.risk_result.get("override", "") != "",
                        rx.text("Why this level: ", CaseState.risk_result.get("override", "")),
                    ),
                    rx.text("First contact: ", CaseState.risk_result.get("deadline", "")),
                    spacing="1",
                ),
                icon="check",
                color_scheme="green",
                high_contrast=True,
                role="status",
                id="risk-result",
                width="100%",
            ),
        ),
        rx.heading("First contact", size="4", as_="h3"),
        rx.text(CaseState.first_contact),
        rx.cond(
            CaseState.can_manage_case & CaseState.first_contact_open,
            rx.card(
                rx.form(
                    rx.vstack(
                        _form_problem("contact"),
                        text_input(
                            "When contact was made",
                            "contacted_at",
                            type="datetime-local",
                            error=e.get("contact.contacted_at", ""),
                        ),
                        text_area("How, and with whom", "contact_note", error=e.get("contact.note", ""), rows=3),
                        rx.button("Record first contact", type="submit"),
                        spacing="3",
                        align="start",
                        width="100%",
                    ),
                    on_submit=CaseState.save_first_contact,
                    no_validate=True,
                    id="contact-form",
                ),
                width="100%",
            ),
        ),
        rx.heading("Assessments", size="4", as_="h3"),
        rx.cond(
            CaseState.assessments.length() > 0,  # type: ignore[attr-defined]
            rx.vstack(
                rx.foreach(
                    CaseState.assessments,
                    lambda a: rx.card(
                        rx.vstack(rx.heading(a["heading"], size="3", as_="h4"), _fields_list(a["fields"])),
                        width="100%",
                    ),
                ),
                width="100%",
            ),
            empty_state("The risk has not been assessed yet (or no assessment was shared with you)."),
        ),
        _risk_dialog(),
        spacing="4",
        width="100%",
    )


# Incidents


def _incident_dialog() -> rx.Component:
    e = CaseState.errors
    return _dialog(
        "incident",
        "Add an incident",
        rx.form(
            rx.vstack(
                _form_problem("incident"),
                text_input(
                    "When it happened", "occurred_at", type="datetime-local", error=e.get("incident.occurred_at", "")
                ),
                text_area("What happened", "what_happened", error=e.get("incident.what_happened", ""), rows=4),
                rx.el.fieldset(
                    rx.el.legend("Who reported it", class_name="field-label"),
                    rx.vstack(
                        rx.cond(
                            CaseState.people.length() > 0,  # type: ignore[attr-defined]
                            dynamic_select_input("Person on record", "reporter_person_id", CaseState.people),
                        ),
                        text_input("Name (if not on record)", "reporter_name"),
                        _error("incident.reported_by"),
                        spacing="2",
                        width="100%",
                    ),
                    class_name="fieldset",
                ),
                rx.cond(
                    CaseState.people.length() > 0,  # type: ignore[attr-defined]
                    dynamic_select_input(
                        "Alleged perpetrator (optional)",
                        "perpetrator_person_id",
                        CaseState.people,
                        error=e.get("incident.perpetrator_person_id", ""),
                        placeholder="Not known",
                    ),
                ),
                rx.hstack(
                    _checkbox("is_hate", "Hate incident"), _checkbox("police_called", "Police called"), spacing="5"
                ),
                text_input(
                    "Crime reference (optional)", "crime_reference", error=e.get("incident.crime_reference", "")
                ),
                text_area(
                    "Effect on the victim (optional)",
                    "effect_on_victim",
                    error=e.get("incident.effect_on_victim", ""),
                    rows=3,
                ),
                dialog_buttons("Add to the diary"),
                spacing="3",
                width="100%",
            ),
            on_submit=CaseState.save_incident,
            no_validate=True,
            id="incident-form",
        ),
    )


def _evidence_dialog() -> rx.Component:
    e = CaseState.errors
    return _dialog(
        "evidence",
        "Add evidence to the " + CaseState.evidence_incident.lower(),  # type: ignore[attr-defined]
        rx.form(
            rx.vstack(
                _form_problem("evidence"),
                select_input("Kind of evidence", "evidence_kind", EVIDENCE_OPTIONS, error=e.get("evidence.kind", "")),
                # The label names the file input inside the drop zone (clicks go through the
                # label to the input; the zone itself takes drops and the keyboard).
                rx.el.label(
                    rx.upload(
                        rx.vstack(
                            rx.text(
                                "The file (photo, recording or PDF letter): drop it here or click to choose", size="2"
                            ),
                            rx.cond(
                                CaseState.upload_name != "",
                                rx.text("Attached: ", CaseState.upload_name, size="2", weight="medium"),
                            ),
                            align="center",
                        ),
                        id=EVIDENCE_UPLOAD_ID,
                        max_files=1,
                        no_click=True,
                        on_drop=CaseState.receive_evidence(rx.upload_files(upload_id=EVIDENCE_UPLOAD_ID)),
                        border="1px dashed var(--gray-8)",
                        padding="1em",
                        width="100%",
                        cursor="pointer",
                    ),
                    width="100%",
                ),
                _error("evidence.file"),
                text_input("Description (optional)", "evidence_description", error=e.get("evidence.description", "")),
                dialog_buttons("Add evidence"),
                spacing="3",
                width="100%",
            ),
            on_submit=CaseState.save_evidence,
            no_validate=True,
            id="evidence-form",
        ),
    )


def _evidence_table(evidence: Any) -> rx.Component:
    return rx.cond(
        evidence.length() > 0,  # type: ignore[attr-defined]
        rx.table.root(
            rx.table.header(
                rx.table.row(*[rx.table.column_header_cell(h) for h in ("File", "Kind", "Type", "Size", "SHA-256")])
            ),
            rx.table.body(
                rx.foreach(
                    evidence,
                    lambda v: rx.table.row(
                        rx.table.row_header_cell(
                            rx.vstack(
                                # A plain link (the file's name says what it is): inside a foreach its
                                # props must stay out of components shared with other pages.
                                rx.link(v["name"], href=v["href"], custom_attrs=FILE_LINK, underline="always"),
                                rx.cond(v["description"] != "", rx.text(v["description"], size="1")),
                                spacing="0",
                            )
                        ),
                        rx.table.cell(v["kind"]),
                        rx.table.cell(v["type"]),
                        rx.table.cell(v["size"]),
                        rx.table.cell(rx.code(v["sha256"], size="1", style={"word_break": "break-all"})),
                    ),
                )
            ),
            size="1",
            variant="surface",
            width="100%",
        ),
    )


def _incidents_tab() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Incident diary", size="5", as_="h2"),
            rx.spacer(),
            rx.cond(
                CaseState.can_record_incidents,
                rx.button("Add an incident", on_click=CaseState.open_dialog("incident")),
            ),
            width="100%",
            align="center",
        ),
        rx.cond(
            CaseState.incidents.length() > 0,  # type: ignore[attr-defined]
            rx.vstack(
                rx.foreach(
                    CaseState.incidents,
                    lambda i: rx.card(
                        rx.vstack(
                            rx.hstack(
                                rx.heading(i["heading"], size="3", as_="h3"),
                                rx.spacer(),
                                rx.cond(
                                    CaseState.can_record_incidents,
                                    rx.button(
                                        "Add evidence",
                                        size="1",
                                        variant="soft",
                                        on_click=CaseState.open_evidence(i["id"], i["heading"]),
                                        aria_label="Add evidence to the " + i["heading"].lower(),  # type: ignore[attr-defined]
                                    ),
                                ),
                                width="100%",
                                align="center",
                            ),
                            _fields_list(i["fields"]),
                            _evidence_table(i["evidence"]),
                            spacing="3",
                            width="100%",
                        ),
                        width="100%",
                        class_name="incident",
                    ),
                ),
                width="100%",
                id="incident-list",
            ),
            empty_state("No incident is in the diary yet (or none was shared with you)."),
        ),
        _incident_dialog(),
        _evidence_dialog(),
        spacing="4",
        width="100%",
    )


# Stage and closure


def _stage_tab() -> rx.Component:
    e = CaseState.errors
    open_and_managed = CaseState.can_manage_case & (CaseState.status == str(CaseStatus.OPEN))
    return rx.vstack(
        rx.heading("Stage and closure", size="5", as_="h2"),
        rx.text("The case is at ", rx.text.strong(CaseState.stage_label), " (", CaseState.status_label.lower(), ")."),  # type: ignore[attr-defined]
        rx.cond(
            open_and_managed,
            rx.grid(
                rx.card(
                    rx.form(
                        rx.vstack(
                            rx.heading("Move to another stage", size="3", as_="h3"),
                            _form_problem("move"),
                            dynamic_select_input(
                                "New stage", "to_stage", CaseState.stage_options, error=e.get("move.to_stage", "")
                            ),
                            text_area("Why it is moving", "move_reason", error=e.get("move.reason", ""), rows=3),
                            rx.button("Move stage", type="submit"),
                            spacing="3",
                            align="start",
                            width="100%",
                        ),
                        on_submit=CaseState.save_move,
                        no_validate=True,
                        id="move-form",
                    ),
                ),
                rx.card(
                    rx.form(
                        rx.vstack(
                            rx.heading("Record a case review", size="3", as_="h3"),
                            _form_problem("review"),
                            text_input(
                                "Reviewed on", "reviewed_on", type="date", error=e.get("review.reviewed_on", "")
                            ),
                            text_area(
                                "What the review found and decided",
                                "review_note",
                                error=e.get("review.note", ""),
                                rows=3,
                            ),
                            rx.button("Record review", type="submit"),
                            spacing="3",
                            align="start",
                            width="100%",
                        ),
                        on_submit=CaseState.save_review,
                        no_validate=True,
                        id="review-form",
                    ),
                ),
                rx.card(
                    rx.form(
                        rx.vstack(
                            rx.heading("Ask to close the case", size="3", as_="h3"),
                            _form_problem("closure"),
                            select_input(
                                "Reason for closing",
                                "closure_reason",
                                CLOSURE_REASON_OPTIONS,
                                error=e.get("closure.reason", ""),
                            ),
                            text_area("Note", "closure_note", error=e.get("closure.note", ""), rows=3),
                            rx.button("Ask for closure", type="submit"),
                            spacing="3",
                            align="start",
                            width="100%",
                        ),
                        on_submit=CaseState.save_closure_request,
                        no_validate=True,
                        id="closure-form",
                    ),
                ),
                columns=rx.breakpoints(initial="1", md="3"),
                spacing="4",
                width="100%",
            ),
        ),
        rx.cond(
            CaseState.closure_requested,
            rx.vstack(
                rx.callout(
                    rx.text(
                        "Closure asked for by ",
                        CaseState.closure_requested_by,
                        ": ",
                        CaseState.closure_reason,
                        rx.cond(CaseState.closure_note != "", " (" + CaseState.closure_note + ")", ""),
                    ),
                    icon="info",
                    color_scheme="blue",
                    high_contrast=True,
                    width="100%",
                ),
                rx.cond(
                    CaseState.can_approve_closure,
                    rx.cond(
                        CaseState.closure_requested_by_me,
                        rx.text("A different manager must approve the closure you asked for."),
                        rx.grid(
                            rx.card(
                                rx.form(
                                    rx.vstack(
                                        rx.heading("Approve closure", size="3", as_="h3"),
                                        _form_problem("approve"),
                                        _checkbox(
                                            "victim_told",
                                            "The victim has been told of their right to an ASB Case Review",
                                        ),
                                        _error("approve.victim_told_of_case_review"),
                                        rx.button("Approve closure", type="submit"),
                                        spacing="3",
                                        align="start",
                                    ),
                                    on_submit=CaseState.save_approval,
                                    no_validate=True,
                                    id="approve-form",
                                ),
                            ),
                            rx.card(
                                rx.form(
                                    rx.vstack(
                                        rx.heading("Refuse closure", size="3", as_="h3"),
                                        _form_problem("refuse"),
                                        text_area(
                                            "Why the case should stay open",
                                            "refuse_reason",
                                            error=e.get("refuse.reason", ""),
                                            rows=3,
                                        ),
                                        rx.button("Refuse closure", type="submit", color_scheme="red"),
                                        spacing="3",
                                        align="start",
                                        width="100%",
                                    ),
                                    on_submit=CaseState.save_refusal,
                                    no_validate=True,
                                    id="refuse-form",
                                ),
                            ),
                            columns=rx.breakpoints(initial="1", md="2"),
                            spacing="4",
                            width="100%",
                        ),
                    ),
                    rx.text("A team manager decides whether the case closes."),
                ),
                width="100%",
                spacing="3",
            ),
        ),
        rx.cond(
            CaseState.status == str(CaseStatus.CLOSED),
            rx.vstack(
                rx.text("Closed on ", CaseState.closed_on, "."),
                rx.cond(
                    CaseState.can_manage_case,
                    rx.card(
                        rx.form(
                            rx.vstack(
                                rx.heading("Reopen the case", size="3", as_="h3"),
                                _form_problem("reopen"),
                                text_area(
                                    "Why it is being reopened",
                                    "reopen_reason",
                                    error=e.get("reopen.reason", ""),
                                    rows=3,
                                ),
                                rx.button("Reopen case", type="submit"),
                                spacing="3",
                                align="start",
                                width="100%",
                            ),
                            on_submit=CaseState.save_reopen,
                            no_validate=True,
                            id="reopen-form",
                        ),
                        width="100%",
                    ),
                ),
                width="100%",
            ),
        ),
        spacing="4",
        width="100%",
    )


# Interventions and legal remedies


def _intervention_dialog() -> rx.Component:
    e = CaseState.errors
    return _dialog(
        "intervention",
        "Record an intervention or legal remedy",
        rx.form(
            rx.vstack(
                _form_problem("intervention"),
                select_input("Intervention", "kind", KIND_OPTIONS, error=e.get("intervention.kind", "")),
                dynamic_select_input(
                    "Served on (a party to the case)",
                    "subject_person_id",
                    CaseState.subjects,
                    error=e.get("intervention.subject_person_id", ""),
                    placeholder="Not served on a person",
                ),
                text_input(
                    "Date served or started",
                    "served_on",
                    type="date",
                    hint="Leave empty while it is only planned.",
                    error=e.get("intervention.served_on", ""),
                ),
                dynamic_select_input(
                    "Earlier step it rests on (optional)",
                    "prior_intervention_id",
                    CaseState.prior_options,
                    placeholder="The latest one that qualifies",
                ),
                _checkbox("all_parties_consent", "Every party consents (needed for a Neighbourhood Resolution Panel)"),
                text_input("Authorised by (optional)", "authorised_by", error=e.get("intervention.authorised_by", "")),
                text_area("Details", "details", error=e.get("intervention.details", ""), rows=3),
                dialog_buttons("Record"),
                spacing="3",
                width="100%",
            ),
            on_submit=CaseState.save_intervention,
            no_validate=True,
            id="intervention-form",
        ),
    )


def _update_dialog() -> rx.Component:
    e = CaseState.errors
    return _dialog(
        "update",
        "Update: " + CaseState.update_heading,
        rx.form(
            rx.vstack(
                _form_problem("update"),
                dynamic_select_input(
                    "What happened", "update_status", CaseState.update_choices, error=e.get("update.status", "")
                ),
                rx.cond(e.get("update.outcome", "") != "", _error("update.outcome")),
                text_input(
                    "On", "happened_on", type="date", hint="Empty means today.", error=e.get("update.happened_on", "")
                ),
                _error("update.ended_on"),
                text_area("Note", "update_note", error=e.get("update.note", ""), rows=3),
                dialog_buttons("Save"),
                spacing="3",
                width="100%",
            ),
            on_submit=CaseState.save_update,
            no_validate=True,
            id="update-form",
        ),
    )


def _interventions_tab() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Interventions and legal remedies", size="5", as_="h2"),
            rx.spacer(),
            rx.cond(
                CaseState.can_manage_case,
                rx.button("Record an intervention", on_click=CaseState.open_dialog("intervention")),
            ),
            width="100%",
            align="center",
        ),
        rx.cond(
            CaseState.interventions.length() > 0,  # type: ignore[attr-defined]
            rx.vstack(
                rx.foreach(
                    CaseState.interventions,
                    lambda i: rx.card(
                        rx.vstack(
                            rx.hstack(
                                rx.heading(i["heading"], size="3", as_="h3"),
                                rx.badge(i["status"], variant="surface", high_contrast=True),
                                rx.cond(
                                    i["legal"] == "yes",
                                    rx.badge("Legal remedy", color_scheme="purple", high_contrast=True),
                                ),
                                rx.spacer(),
                                rx.cond(
                                    CaseState.can_manage_case & (i["choices"].length() > 0),  # type: ignore[attr-defined]
                                    rx.button(
                                        "Update",
                                        size="1",
                                        variant="soft",
                                        on_click=CaseState.open_update(i["id"]),
                                        aria_label="Update " + i["heading"],
                                    ),
                                ),
                                rx.cond(
                                    CaseState.can_manage_case & (i["can_alert_witnesses"] == "yes"),
                                    rx.button(
                                        "Witnesses alerted",
                                        size="1",
                                        variant="soft",
                                        on_click=CaseState.alert_witnesses(i["id"]),
                                        aria_label="Witnesses alerted about " + i["heading"],
                                    ),
                                ),
                                width="100%",
                                align="center",
                                wrap="wrap",
                            ),
                            rx.hstack(rx.foreach(i["dates"], lambda d: rx.text(d, size="2")), spacing="4", wrap="wrap"),
                            rx.cond(i["details"] != "", rx.text(i["details"], size="2")),
                            rx.cond(i["outcome"] != "", rx.text("Outcome: ", i["outcome"], size="2")),
                            rx.foreach(
                                i["alerts"],
                                lambda a: rx.callout(
                                    a, icon="alarm-clock", color_scheme="orange", high_contrast=True, size="1"
                                ),
                            ),
                            spacing="2",
                            width="100%",
                        ),
                        width="100%",
                    ),
                ),
                width="100%",
            ),
            empty_state("No intervention or legal remedy is recorded yet."),
        ),
        _intervention_dialog(),
        _update_dialog(),
        spacing="4",
        width="100%",
    )


# ASB Case Review


def _case_review_tab() -> rx.Component:
    e = CaseState.errors
    return rx.vstack(
        rx.heading("ASB Case Review", size="5", as_="h2"),
        rx.text("Threshold: ", CaseState.case_review_policy, size="2", color_scheme="gray"),
        rx.callout(
            rx.vstack(
                rx.cond(
                    CaseState.case_review_met,
                    rx.text("The case meets the threshold today.", weight="bold"),
                    rx.text("The case does not meet the threshold today.", weight="bold"),
                ),
                rx.foreach(CaseState.case_review_check, lambda r: rx.text(r, size="2")),
                spacing="1",
            ),
            icon="scale",
            color_scheme=rx.cond(CaseState.case_review_met, "amber", "gray"),  # type: ignore[arg-type]
            high_contrast=True,
            width="100%",
        ),
        rx.heading("Applications", size="4", as_="h3"),
        rx.cond(
            CaseState.applications.length() > 0,  # type: ignore[attr-defined]
            rx.vstack(
                rx.foreach(
                    CaseState.applications,
                    lambda a: rx.card(
                        rx.vstack(
                            rx.hstack(
                                rx.heading(a["heading"], size="3", as_="h4"),
                                rx.badge(a["status"], variant="surface", high_contrast=True),
                                wrap="wrap",
                            ),
                            rx.text("The portal's check on the day: ", a["check"], size="2"),
                            rx.cond(a["decision"] != "", rx.text(a["decision"], size="2")),
                            rx.cond(a["outcome"] != "", rx.text(a["outcome"], size="2")),
                            spacing="2",
                        ),
                        width="100%",
                    ),
                ),
                width="100%",
            ),
            empty_state("No application has been received for this case."),
        ),
        rx.cond(
            CaseState.can_manage_case_review,
            rx.grid(
                rx.card(
                    rx.form(
                        rx.vstack(
                            rx.heading("Record an application", size="3", as_="h4"),
                            _form_problem("application"),
                            text_input(
                                "Received on", "received_on", type="date", error=e.get("application.received_on", "")
                            ),
                            rx.cond(
                                CaseState.people.length() > 0,  # type: ignore[attr-defined]
                                dynamic_select_input("Applicant on record", "applicant_person_id", CaseState.people),
                            ),
                            text_input("Applicant's name (if not on record)", "applicant_name"),
                            _error("application.applicant"),
                            rx.button("Record application", type="submit"),
                            spacing="3",
                            align="start",
                            width="100%",
                        ),
                        on_submit=CaseState.save_application,
                        no_validate=True,
                        id="application-form",
                    ),
                ),
                rx.cond(
                    CaseState.awaiting_options.length() > 0,  # type: ignore[attr-defined]
                    rx.card(
                        rx.form(
                            rx.vstack(
                                rx.heading("Decide the threshold", size="3", as_="h4"),
                                _form_problem("decide"),
                                dynamic_select_input(
                                    "Application",
                                    "decide_application",
                                    CaseState.awaiting_options,
                                    error=e.get("decide.application", ""),
                                ),
                                rx.el.fieldset(
                                    rx.el.legend("Is the threshold met?", class_name="field-label"),
                                    rx.hstack(
                                        *[
                                            rx.el.label(
                                                rx.el.input(
                                                    type="radio", name="threshold_met", value=v, id=f"threshold-{v}"
                                                ),
                                                " " + text,
                                                html_for=f"threshold-{v}",
                                                class_name="checkbox-label",
                                            )
                                            for v, text in (("yes", "Met"), ("no", "Not met"))
                                        ],
                                        spacing="4",
                                    ),
                                    _error("decide.met"),
                                    class_name="fieldset",
                                ),
                                text_input(
                                    "Decided on", "decided_on", type="date", error=e.get("decide.decided_on", "")
                                ),
                                text_area(
                                    "Reason (needed when not met)",
                                    "decide_reason",
                                    error=e.get("decide.reason", ""),
                                    rows=3,
                                ),
                                rx.button("Record decision", type="submit"),
                                spacing="3",
                                align="start",
                                width="100%",
                            ),
                            on_submit=CaseState.save_decision,
                            no_validate=True,
                            id="decide-form",
                        ),
                    ),
                ),
                rx.cond(
                    CaseState.met_options.length() > 0,  # type: ignore[attr-defined]
                    rx.card(
                        rx.form(
                            rx.vstack(
                                rx.heading("Complete the review", size="3", as_="h4"),
                                _form_problem("complete"),
                                dynamic_select_input(
                                    "Application to complete",
                                    "complete_application",
                                    CaseState.met_options,
                                    error=e.get("complete.application", ""),
                                ),
                                text_input(
                                    "Completed on",
                                    "completed_on",
                                    type="date",
                                    error=e.get("complete.completed_on", ""),
                                ),
                                text_area(
                                    "What the review concluded",
                                    "review_outcome",
                                    error=e.get("complete.outcome", ""),
                                    rows=3,
                                ),
                                rx.button("Complete review", type="submit"),
                                spacing="3",
                                align="start",
                                width="100%",
                            ),
                            on_submit=CaseState.save_completion,
                            no_validate=True,
                            id="complete-form",
                        ),
                    ),
                ),
                columns=rx.breakpoints(initial="1", md="3"),
                spacing="4",
                width="100%",
            ),
        ),
        spacing="4",
        width="100%",
    )


# Chronology


def _chronology_tab() -> rx.Component:
    return rx.vstack(
        rx.heading("Chronology", size="5", as_="h2"),
        rx.text("Newest first.", size="2", color_scheme="gray"),
        rx.el.ol(
            rx.foreach(
                CaseState.chronology,
                lambda c: rx.el.li(
                    rx.text(
                        rx.text.strong(c["when"]),
                        " · ",
                        c["kind"],
                        rx.cond(c["by"] != "", " · " + c["by"], ""),
                        size="2",
                        color_scheme="gray",
                    ),
                    rx.text(c["summary"]),
                    class_name="chronology-entry",
                ),
            ),
            id="chronology",
            style={"list_style": "none", "padding": "0", "display": "grid", "gap": "0.75rem", "width": "100%"},
        ),
        spacing="3",
        width="100%",
    )


def _tabs() -> rx.Component:
    return rx.tabs.root(
        rx.tabs.list(
            rx.tabs.trigger("Summary and parties", value="summary"),
            rx.tabs.trigger("Risk", value="risk"),
            rx.tabs.trigger("Incidents", value="incidents"),
            rx.cond(CaseState.is_lead, rx.tabs.trigger("Stage and closure", value="stage")),
            rx.tabs.trigger("Interventions and legal remedies", value="interventions"),
            rx.cond(CaseState.is_lead, rx.tabs.trigger("ASB Case Review", value="case-review")),
            rx.tabs.trigger("Chronology", value="chronology"),
            style={"flex_wrap": "wrap"},
        ),
        rx.tabs.content(_summary_tab(), value="summary", padding_top="1em"),
        rx.tabs.content(_risk_tab(), value="risk", padding_top="1em"),
        rx.tabs.content(_incidents_tab(), value="incidents", padding_top="1em"),
        rx.tabs.content(_stage_tab(), value="stage", padding_top="1em"),
        rx.tabs.content(_interventions_tab(), value="interventions", padding_top="1em"),
        rx.tabs.content(_case_review_tab(), value="case-review", padding_top="1em"),
        rx.tabs.content(_chronology_tab(), value="chronology", padding_top="1em"),
        default_value="summary",
        width="100%",
    )


@rx.page(route=routes.CASE, title=f"Case · {PRODUCT_NAME}", on_load=CaseState.load)
def case_detail_page() -> rx.Component:
    return page_shell(
        CaseState.heading,
        rx.cond(
            CaseState.refused != "",
            rx.vstack(
                rx.callout(
                    CaseState.refused,
                    icon="lock",
                    color_scheme="red",
                    high_contrast=True,
                    role="alert",
                    id="case-refused",
                    width="100%",
                ),
                rx.link("Back to cases", href=routes.CASES),
                width="100%",
            ),
            rx.cond(
                CaseState.loaded,
                rx.vstack(_header(), _tabs(), spacing="5", width="100%"),
                rx.center(rx.spinner(size="3"), rx.text(" Loading the case…"), padding="4em"),
            ),
        ),
    )

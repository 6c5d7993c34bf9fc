"""Every reason a share is refused, in the exact plain words the officer reads, and what stays on
record although the request's own transaction rolls back: the refused disclosure (with its
reason and items) and a ``sharing:disclosure:refused`` row in the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from sharing.access import DENIED_MESSAGE
from sharing.audit import AuditAction, Outcome
from sharing.config import get_settings
from sharing.db import transaction
from sharing.disclosures import decide_disclosure, review_emergency_disclosure
from sharing.errors import InvalidInput, PermissionDenied
from sharing.models import Disclosure, DisclosureItem, OrganisationType
from sharing.permissions import SYSTEM_ACTOR, Actor
from sharing.register import withdraw_consent
from sharing.vocabulary import AgreementStatus, DataCategory, DisclosureStatus, ItemKind, LawfulBasis, Purpose
from tests.unit.helpers import audit_events, last_audit_id
from tests.unit.sharing_helpers import (
    JUSTIFICATION,
    Agency,
    PersonRef,
    Refusal,
    last_disclosure_id,
    load_disclosure,
    make_agency,
    make_agreement,
    make_consent,
    make_item,
    make_person,
    refuse,
    refused_since,
    set_status,
    share,
    today,
)

S115 = LawfulBasis.CRIME_AND_DISORDER_S115


@dataclass
class Partnership:
    council: Agency  # the discloser
    police: Agency  # the usual recipient
    care: Agency  # a third party
    person: PersonRef  # held by the council
    note: int  # a case note about the person: ASB history and health


@pytest.fixture
def p(engine: Engine) -> Partnership:
    council = make_agency(engine, OrganisationType.COUNCIL_ASB_TEAM, "Council")
    police = make_agency(engine, OrganisationType.POLICE, "Police")
    care = make_agency(engine, OrganisationType.ADULT_SOCIAL_CARE, "Care")
    person = make_person(engine, council.officer)
    note = make_item(
        engine,
        council.officer,
        [("summary", DataCategory.ASB_HISTORY), ("impact", DataCategory.HEALTH)],
        person_id=person.id,
    )
    return Partnership(council, police, care, person, note)


def assert_recorded(refusal: Refusal, p: Partnership, *, requester: Actor, **expected: object) -> None:
    """The refused disclosure and its audit row survived the rollback, saying the same thing."""
    row = refusal.disclosure
    assert row.status == DisclosureStatus.REFUSED
    assert row.refusal_reason == refusal.message
    assert row.requested_by_user_id == requester.user_id
    assert row.decided_at is not None
    assert row.decided_by_user_id is None
    assert row.agreement_id is None and row.consent_id is None
    for name, value in expected.items():
        assert getattr(row, name) == value, name
    assert len(refusal.audit) == 1
    event = refusal.audit[0]
    assert event.action == AuditAction.DISCLOSURE_REFUSED
    assert event.outcome == Outcome.DENIED
    assert event.actor_user_id == requester.user_id
    assert event.actor_organisation_id == requester.organisation_id
    assert event.reason == refusal.message


def between(p: Partnership, recipient: Agency | None = None) -> str:
    return f"between {p.council.org.name} and {(recipient or p.police).org.name}"


# --- The agreement ---------------------------------------------------------------------------


def test_a_category_the_agreement_restricts_to_other_parties_is_refused(engine: Engine, p: Partnership) -> None:
    make_agreement(
        engine,
        p.council.iso,
        [p.council.org, p.police.org, p.care.org],
        restrictions={DataCategory.HEALTH: [p.council.org, p.care.org]},
    )
    refusal = refuse(engine, p.council.officer, [p.note], p.police.org, basis=S115)
    assert refusal.message == (f"No active agreement {between(p)} covers 'health' data for 'ASB case management'.")
    assert_recorded(
        refusal, p, requester=p.council.officer,
        discloser_organisation_id=p.council.org.id, recipient_organisation_id=p.police.org.id,
        purpose=Purpose.ASB_CASE_MANAGEMENT, basis=S115, categories=["asb_history", "health"],
        justification=JUSTIFICATION, emergency=False,
    )  # fmt: skip
    assert refusal.item_ids == [p.note]
    # The parties the restriction names may share it.
    allowed = share(engine, p.council.officer, [p.note], p.care.org, basis=S115)
    assert allowed.status == DisclosureStatus.AWAITING_APPROVAL
    # And leaving the restricted category out is allowed too.
    partial = share(
        engine, p.council.officer, [p.note], p.police.org, basis=S115, categories=[DataCategory.ASB_HISTORY]
    )
    assert partial.status == DisclosureStatus.AWAITING_APPROVAL
    assert partial.categories == ["asb_history"]


def test_a_category_the_agreement_does_not_cover_is_refused(engine: Engine, p: Partnership) -> None:
    make_agreement(
        engine, p.council.iso, [p.council.org, p.police.org],
        categories=[DataCategory.IDENTITY, DataCategory.CONTACT, DataCategory.ASB_HISTORY],
    )  # fmt: skip
    crime = make_item(engine, p.council.officer, [("allegation", DataCategory.ALLEGATIONS_OF_CRIME)])
    refusal = refuse(engine, p.council.officer, [crime], p.police.org, basis=S115, purpose=Purpose.SAFEGUARDING)
    assert refusal.message == (
        f"No active agreement {between(p)} covers 'allegations of crime' data for 'safeguarding'."
    )
    assert_recorded(refusal, p, requester=p.council.officer, categories=["allegations_of_crime"])


def test_a_purpose_the_agreement_does_not_cover_is_refused(engine: Engine, p: Partnership) -> None:
    make_agreement(engine, p.council.iso, [p.council.org, p.police.org], purposes=[Purpose.ASB_CASE_MANAGEMENT])
    refusal = refuse(engine, p.council.officer, [p.note], p.police.org, basis=S115, purpose=Purpose.TENANCY_ENFORCEMENT)
    assert refusal.message == f"No active agreement {between(p)} covers sharing for 'tenancy enforcement'."
    assert_recorded(refusal, p, requester=p.council.officer, purpose=Purpose.TENANCY_ENFORCEMENT)


@pytest.mark.parametrize("status", [AgreementStatus.SUSPENDED, AgreementStatus.EXPIRED, AgreementStatus.DRAFT])
def test_an_agreement_that_is_not_active_covers_nothing(
    engine: Engine, p: Partnership, status: AgreementStatus
) -> None:
    agreement = make_agreement(engine, p.council.iso, [p.council.org, p.police.org])
    assert share(engine, p.council.officer, [p.note], p.police.org, basis=S115).status == "awaiting_approval"
    set_status(engine, p.council.iso, agreement, status)
    refusal = refuse(engine, p.council.officer, [p.note], p.police.org, basis=S115)
    assert refusal.message == f"There is no active information sharing agreement {between(p)}."
    assert_recorded(refusal, p, requester=p.council.officer)


@pytest.mark.parametrize(("starts", "ends"), [(-400, -1), (1, 300)], ids=["ended yesterday", "starts tomorrow"])
def test_an_agreement_outside_its_dates_covers_nothing(engine: Engine, p: Partnership, starts: int, ends: int) -> None:
    make_agreement(
        engine, p.council.iso, [p.council.org, p.police.org],
        starts_on=today() + timedelta(days=starts), ends_on=today() + timedelta(days=ends),
    )  # fmt: skip
    refusal = refuse(engine, p.council.officer, [p.note], p.police.org, basis=S115)
    assert refusal.message == f"There is no active information sharing agreement {between(p)}."
    assert_recorded(refusal, p, requester=p.council.officer)


def test_an_agreement_on_its_last_day_still_covers_the_share(engine: Engine, p: Partnership) -> None:
    make_agreement(engine, p.council.iso, [p.council.org, p.police.org], starts_on=today(), ends_on=today())
    assert share(engine, p.council.officer, [p.note], p.police.org, basis=S115).status == "awaiting_approval"


def test_an_organisation_that_is_not_a_party_cannot_receive(engine: Engine, p: Partnership) -> None:
    make_agreement(engine, p.council.iso, [p.council.org, p.care.org])
    refusal = refuse(engine, p.council.officer, [p.note], p.police.org, basis=S115)
    assert refusal.message == f"There is no active information sharing agreement {between(p)}."
    assert_recorded(refusal, p, requester=p.council.officer, recipient_organisation_id=p.police.org.id)
    # Nor can a non-party disclose to a party.
    police_note = make_item(engine, p.police.officer)
    refusal = refuse(engine, p.police.officer, [police_note], p.care.org, basis=S115)
    assert refusal.message == (
        f"There is no active information sharing agreement between {p.police.org.name} and {p.care.org.name}."
    )


def test_a_basis_the_agreement_does_not_allow_is_refused(engine: Engine, p: Partnership) -> None:
    make_agreement(engine, p.council.iso, [p.council.org, p.police.org], bases=[LawfulBasis.CONSENT])
    refusal = refuse(engine, p.council.officer, [p.note], p.police.org, basis=S115)
    assert refusal.message == (
        f"The agreement {between(p)} does not allow sharing on the basis of Crime and Disorder Act 1998 s.115."
    )
    assert_recorded(refusal, p, requester=p.council.officer, basis=S115)


def test_no_agreement_at_all_is_refused(engine: Engine, p: Partnership) -> None:
    refusal = refuse(engine, p.council.officer, [p.note], p.police.org, basis=LawfulBasis.VITAL_INTERESTS)
    assert refusal.message == f"There is no active information sharing agreement {between(p)}."
    assert_recorded(refusal, p, requester=p.council.officer, basis=LawfulBasis.VITAL_INTERESTS)


def test_an_emergency_share_is_refused_without_an_agreement_too(engine: Engine, p: Partnership) -> None:
    refusal = refuse(
        engine, p.council.officer, [p.note], p.police.org, basis=LawfulBasis.VITAL_INTERESTS, emergency=True
    )
    assert refusal.message == f"There is no active information sharing agreement {between(p)}."
    assert_recorded(refusal, p, requester=p.council.officer, emergency=True)
    assert refusal.disclosure.review_due_at is None


# --- Consent -----------------------------------------------------------------------------------


@pytest.fixture
def agreed(engine: Engine, p: Partnership) -> Partnership:
    """An agreement covering everything between the three parties."""
    make_agreement(engine, p.council.iso, [p.council.org, p.police.org, p.care.org])
    return p


def test_no_consent_is_refused(engine: Engine, agreed: Partnership) -> None:
    p = agreed
    refusal = refuse(engine, p.council.officer, [p.note], p.police.org)
    assert refusal.message == f"{p.person.name} has not given consent to share their information."
    assert_recorded(refusal, p, requester=p.council.officer, basis=LawfulBasis.CONSENT, justification="")


def test_withdrawn_consent_is_refused(engine: Engine, agreed: Partnership) -> None:
    p = agreed
    consent = make_consent(engine, p.council.officer, p.person.id, organisations=[p.police.org])
    with transaction(engine) as session:
        withdraw_consent(
            session=session, actor=p.council.officer, consent_id=consent, withdrawn_on=today(), how="Phoned the team"
        )
    refusal = refuse(engine, p.council.officer, [p.note], p.police.org)
    assert refusal.message == f"{p.person.name}'s consent has been withdrawn or has expired."
    assert_recorded(refusal, p, requester=p.council.officer)


def test_expired_consent_is_refused(engine: Engine, agreed: Partnership) -> None:
    p = agreed
    make_consent(
        engine, p.council.officer, p.person.id, organisations=[p.police.org],
        given_on=today() - timedelta(days=400), expires_on=today() - timedelta(days=1),
    )  # fmt: skip
    refusal = refuse(engine, p.council.officer, [p.note], p.police.org)
    assert refusal.message == f"{p.person.name}'s consent has been withdrawn or has expired."
    assert_recorded(refusal, p, requester=p.council.officer)


def test_consent_on_its_last_day_still_covers_the_share(engine: Engine, agreed: Partnership) -> None:
    p = agreed
    make_consent(engine, p.council.officer, p.person.id, organisations=[p.police.org], expires_on=today())
    assert share(engine, p.council.officer, [p.note], p.police.org).status == DisclosureStatus.ACTIVE


def test_consent_given_in_the_future_does_not_cover_the_share_yet(engine: Engine, agreed: Partnership) -> None:
    p = agreed
    make_consent(
        engine, p.council.officer, p.person.id, organisations=[p.police.org], given_on=today() + timedelta(days=1)
    )
    refusal = refuse(engine, p.council.officer, [p.note], p.police.org)
    assert refusal.message == f"{p.person.name}'s consent has been withdrawn or has expired."


def test_consent_for_other_organisations_is_refused(engine: Engine, agreed: Partnership) -> None:
    p = agreed
    make_consent(engine, p.council.officer, p.person.id, organisations=[p.care.org])
    refusal = refuse(engine, p.council.officer, [p.note], p.police.org)
    assert refusal.message == f"{p.person.name}'s consent does not cover sharing with {p.police.org.name}."
    assert_recorded(refusal, p, requester=p.council.officer)


def test_consent_for_other_kinds_of_organisation_is_refused(engine: Engine, agreed: Partnership) -> None:
    p = agreed
    make_consent(engine, p.council.officer, p.person.id, types=[OrganisationType.HEALTH])
    refusal = refuse(engine, p.council.officer, [p.note], p.police.org)
    assert refusal.message == f"{p.person.name}'s consent does not cover sharing with {p.police.org.name}."
    assert_recorded(refusal, p, requester=p.council.officer)
    # Consent naming the recipient's kind of organisation covers it.
    make_consent(engine, p.council.officer, p.person.id, types=[OrganisationType.POLICE])
    assert share(engine, p.council.officer, [p.note], p.police.org).status == DisclosureStatus.ACTIVE


def test_consent_for_another_purpose_is_refused(engine: Engine, agreed: Partnership) -> None:
    p = agreed
    make_consent(engine, p.council.officer, p.person.id, organisations=[p.police.org], purposes=[Purpose.SAFEGUARDING])
    refusal = refuse(engine, p.council.officer, [p.note], p.police.org)
    assert refusal.message == f"{p.person.name}'s consent does not cover sharing for 'ASB case management'."
    assert_recorded(refusal, p, requester=p.council.officer)


def test_consent_for_other_kinds_of_information_is_refused(engine: Engine, agreed: Partnership) -> None:
    p = agreed
    make_consent(
        engine, p.council.officer, p.person.id, organisations=[p.police.org],
        categories=[DataCategory.IDENTITY, DataCategory.ASB_HISTORY],
    )  # fmt: skip
    refusal = refuse(engine, p.council.officer, [p.person.details_item_id], p.police.org)
    assert (
        refusal.message == f"{p.person.name}'s consent does not cover sharing 'contact' data with {p.police.org.name}."
    )
    assert_recorded(refusal, p, requester=p.council.officer, categories=["contact", "identity"])
    refusal = refuse(engine, p.council.officer, [p.note], p.police.org)
    assert (
        refusal.message == f"{p.person.name}'s consent does not cover sharing 'health' data with {p.police.org.name}."
    )
    # Sharing only what the consent covers is allowed.
    allowed = share(engine, p.council.officer, [p.note], p.police.org, categories=[DataCategory.ASB_HISTORY])
    assert allowed.status == DisclosureStatus.ACTIVE


def test_consent_cannot_be_the_basis_for_information_about_nobody(engine: Engine, agreed: Partnership) -> None:
    p = agreed
    incident = make_item(engine, p.council.officer, kind=ItemKind.INCIDENT)
    refusal = refuse(engine, p.council.officer, [incident], p.police.org)
    assert refusal.message == "Consent can only be the basis when the information is about a person on record."
    assert_recorded(refusal, p, requester=p.council.officer)


def test_consent_covers_one_person_so_people_are_shared_separately(engine: Engine, agreed: Partnership) -> None:
    """A disclosure rests on one consent record, so each person's information goes separately:
    otherwise withdrawing one person's consent could leave their information shared."""
    p = agreed
    other = make_person(engine, p.council.officer, given_name="Sam")
    for person in (p.person, other):
        make_consent(engine, p.council.officer, person.id, organisations=[p.police.org])
    refusal = refuse(engine, p.council.officer, [p.note, other.details_item_id], p.police.org)
    assert refusal.message == "Share each person's information separately when consent is the basis."
    assert_recorded(refusal, p, requester=p.council.officer)
    assert refusal.item_ids == sorted([p.note, other.details_item_id])
    for item_id in (p.note, other.details_item_id):
        assert share(engine, p.council.officer, [item_id], p.police.org).status == DisclosureStatus.ACTIVE
    # A gateway share may cover several people at once.
    both = share(engine, p.council.officer, [p.note, other.details_item_id], p.police.org, basis=S115)
    assert both.status == DisclosureStatus.AWAITING_APPROVAL


def test_information_about_a_person_and_about_nobody_rests_on_the_persons_consent(
    engine: Engine, agreed: Partnership
) -> None:
    p = agreed
    consent = make_consent(engine, p.council.officer, p.person.id, organisations=[p.police.org])
    incident = make_item(engine, p.council.officer, kind=ItemKind.INCIDENT)
    disclosure = share(engine, p.council.officer, [p.note, incident], p.police.org)
    assert disclosure.status == DisclosureStatus.ACTIVE
    assert disclosure.consent_id == consent


# --- Checks made before any decision -----------------------------------------------------------


def test_a_gateway_needs_a_long_enough_justification(engine: Engine, agreed: Partnership) -> None:
    p = agreed
    minimum = get_settings().disclosure_justification_min_chars
    since = last_disclosure_id(engine)
    for justification in ("", "Police asked.", " " * 60, "x" * (minimum - 1)):
        with pytest.raises(InvalidInput) as caught:
            share(engine, p.council.officer, [p.note], p.police.org, basis=S115, justification=justification)
        assert caught.value.field_errors == {
            "justification": (
                f"Explain why sharing without consent is necessary and proportionate (at least {minimum} characters)."
            )
        }
    # A form error decides nothing, so nothing is recorded.
    assert refused_since(engine, since, p.council.officer) == []
    assert last_disclosure_id(engine) == since
    ok = share(engine, p.council.officer, [p.note], p.police.org, basis=S115, justification="y" * minimum)
    assert ok.status == DisclosureStatus.AWAITING_APPROVAL


def test_an_emergency_cannot_rest_on_consent(engine: Engine, agreed: Partnership) -> None:
    p = agreed
    make_consent(engine, p.council.officer, p.person.id, organisations=[p.police.org])
    since = last_disclosure_id(engine)
    with pytest.raises(InvalidInput) as caught:
        share(engine, p.council.officer, [p.note], p.police.org, emergency=True)
    assert caught.value.field_errors == {"emergency": "An emergency share must rest on a legal gateway, not consent."}
    assert last_disclosure_id(engine) == since


def test_sharing_another_organisations_information_is_refused(engine: Engine, agreed: Partnership) -> None:
    p = agreed
    since = last_disclosure_id(engine)
    with pytest.raises(PermissionDenied) as caught:
        share(engine, p.police.officer, [p.note], p.care.org, basis=S115)
    assert caught.value.message == "You can only share information your own organisation holds."
    refusals = refused_since(engine, since, p.police.officer)
    assert len(refusals) == 1
    refusal = refusals[0]
    assert refusal.message == caught.value.message
    assert_recorded(
        refusal, p, requester=p.police.officer,
        discloser_organisation_id=p.police.org.id, recipient_organisation_id=p.care.org.id,
    )  # fmt: skip
    assert refusal.item_ids == [p.note]
    # Mixing one's own item with someone else's is refused the same way.
    own = make_item(engine, p.police.officer)
    with pytest.raises(PermissionDenied):
        share(engine, p.police.officer, [own, p.note], p.care.org, basis=S115)
    assert len(refused_since(engine, since, p.police.officer)) == 2


def test_sharing_with_oneself_is_a_form_error(engine: Engine, agreed: Partnership) -> None:
    p = agreed
    with pytest.raises(InvalidInput) as caught:
        share(engine, p.council.officer, [p.note], p.council.org, basis=S115)
    assert set(caught.value.field_errors) == {"recipient"}


def test_only_officers_who_may_share_can_ask(engine: Engine, agreed: Partnership) -> None:
    p = agreed
    since_audit = last_audit_id(engine)
    with pytest.raises(PermissionDenied) as caught:
        share(engine, p.council.member, [p.note], p.police.org, basis=S115)
    assert caught.value.message == DENIED_MESSAGE
    denied = audit_events(engine, action=AuditAction.PERMISSION_DENIED, actor_user_id=p.council.member.user_id,
                          since=since_audit)  # fmt: skip
    assert len(denied) == 1


# --- The second person -------------------------------------------------------------------------


@pytest.fixture
def pending(engine: Engine, agreed: Partnership) -> int:
    """A share under s.115 waiting for a second person, asked for by the council's ISO."""
    disclosure = share(engine, agreed.council.iso, [agreed.note], agreed.police.org, basis=S115)
    assert disclosure.status == DisclosureStatus.AWAITING_APPROVAL
    assert disclosure.id is not None
    return disclosure.id


def _decide(engine: Engine, actor: Actor, disclosure_id: int, approve: bool, note: str = "") -> Disclosure:
    with transaction(engine) as session:
        return decide_disclosure(session=session, actor=actor, disclosure_id=disclosure_id, approve=approve, note=note)


def test_the_requester_cannot_approve_their_own_request(engine: Engine, agreed: Partnership, pending: int) -> None:
    p = agreed
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied) as caught:
        _decide(engine, p.council.iso, pending, True, "Looks fine to me.")
    assert caught.value.message == "A second person must approve this: you asked for it yourself."
    assert load_disclosure(engine, pending).status == DisclosureStatus.AWAITING_APPROVAL
    denied = audit_events(engine, actor_user_id=p.council.iso.user_id, since=since)
    assert [(e.action, e.outcome, e.subject_type, e.subject_id) for e in denied] == [
        (AuditAction.PERMISSION_DENIED, Outcome.DENIED, "disclosure", str(pending))
    ]
    # Nor review their own emergency share.
    emergency = share(engine, p.council.iso, [p.note], p.police.org, basis=S115, emergency=True)
    assert emergency.id is not None
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        review_emergency_disclosure(
            session=session, actor=p.council.iso, disclosure_id=emergency.id, upheld=True, note="Fine."
        )
    assert load_disclosure(engine, emergency.id).status == DisclosureStatus.EMERGENCY


@pytest.mark.parametrize("role", ["officer", "member"])
def test_only_an_information_sharing_officer_can_approve(
    engine: Engine, agreed: Partnership, pending: int, role: str
) -> None:
    p = agreed
    actor = getattr(p.police, role)
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied) as caught:
        _decide(engine, actor, pending, True)
    assert caught.value.message == DENIED_MESSAGE
    assert load_disclosure(engine, pending).status == DisclosureStatus.AWAITING_APPROVAL
    denied = audit_events(engine, actor_user_id=actor.user_id, since=since)
    assert [(e.action, e.subject_id) for e in denied] == [(AuditAction.PERMISSION_DENIED, str(pending))]


def test_an_account_without_the_role_cannot_approve_even_with_every_permission(engine: Engine, pending: int) -> None:
    with pytest.raises(PermissionDenied) as caught:
        _decide(engine, SYSTEM_ACTOR, pending, True)
    assert caught.value.message == "Only an information-sharing officer can approve sharing without consent."
    assert load_disclosure(engine, pending).status == DisclosureStatus.AWAITING_APPROVAL


def test_a_rejection_needs_a_note(engine: Engine, agreed: Partnership, pending: int) -> None:
    p = agreed
    for note in ("", "   "):
        with pytest.raises(InvalidInput) as caught:
            _decide(engine, p.police.iso, pending, False, note)
        assert caught.value.field_errors == {"note": "Say why you are not approving it; the requester will see this."}
    assert load_disclosure(engine, pending).status == DisclosureStatus.AWAITING_APPROVAL
    rejected = _decide(engine, p.police.iso, pending, False, "  Not proportionate: share the summary only.  ")
    assert rejected.status == DisclosureStatus.REJECTED
    assert rejected.review_note == "Not proportionate: share the summary only."
    assert rejected.decided_by_user_id == p.police.iso.user_id
    # A decided disclosure cannot be decided again.
    with pytest.raises(InvalidInput) as caught:
        _decide(engine, p.care.iso, pending, True)
    assert caught.value.field_errors == {"disclosure": "This disclosure is not waiting for approval."}


def test_a_second_information_sharing_officer_approves(engine: Engine, agreed: Partnership, pending: int) -> None:
    p = agreed
    approved = _decide(engine, p.police.iso, pending, True, "Necessary and proportionate.")
    assert approved.status == DisclosureStatus.ACTIVE
    assert approved.decided_by_user_id == p.police.iso.user_id != approved.requested_by_user_id
    assert approved.agreement_id is not None


def test_refused_disclosures_keep_their_items(engine: Engine, p: Partnership) -> None:
    refusal = refuse(engine, p.council.officer, [p.note, p.person.details_item_id], p.police.org, basis=S115)
    with Session(engine) as session:
        rows = session.exec(select(DisclosureItem).where(DisclosureItem.disclosure_id == refusal.disclosure.id)).all()
    assert sorted(r.item_id for r in rows) == sorted([p.note, p.person.details_item_id])
    assert refusal.disclosure.what_was_shared


def test_asking_for_the_same_item_twice_is_refused_and_recorded_once(engine: Engine, p: Partnership) -> None:
    refusal = refuse(engine, p.council.officer, [p.note, p.note], p.police.org, basis=S115)
    assert refusal.message == f"There is no active information sharing agreement {between(p)}."
    assert refusal.item_ids == [p.note]


def test_a_request_cannot_be_approved_once_its_agreement_is_suspended(
    engine: Engine, agreed: Partnership, pending: int
) -> None:
    p = agreed
    agreement_id = load_disclosure(engine, pending).agreement_id
    assert agreement_id is not None
    set_status(engine, p.council.iso, agreement_id, AgreementStatus.SUSPENDED)
    with pytest.raises(InvalidInput) as caught:
        _decide(engine, p.police.iso, pending, True, "Looks fine.")
    assert "no longer active" in caught.value.field_errors["disclosure"]
    assert load_disclosure(engine, pending).status == DisclosureStatus.AWAITING_APPROVAL


def test_only_the_organisation_holding_the_record_records_consent(engine: Engine, agreed: Partnership) -> None:
    p = agreed
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied) as caught:
        make_consent(engine, p.police.officer, p.person.id, organisations=[p.police.org])
    assert "holds this person's record" in caught.value.message
    denials = audit_events(engine, action=AuditAction.PERMISSION_DENIED, actor_user_id=p.police.officer.user_id,
                           since=since)  # fmt: skip
    assert [d.reason for d in denials] == ["not the controller of the person's record"]

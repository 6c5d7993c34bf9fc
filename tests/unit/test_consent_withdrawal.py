"""Withdrawing consent: disclosures that rested on it stop giving access at once, are flagged
for the sharing officer's review, their recipients are told, and new consent-based shares are
refused from that moment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from sharing.access import DENIED_MESSAGE
from sharing.audit import AuditAction
from sharing.db import transaction
from sharing.disclosures import decide_disclosure
from sharing.errors import InvalidInput, NotFound, PermissionDenied
from sharing.models import ConsentRecord, OrganisationNotice, OrganisationType
from sharing.permissions import Actor
from sharing.reads import visible_item_ids
from sharing.register import withdraw_consent
from sharing.vocabulary import DataCategory, DisclosureStatus, LawfulBasis
from tests.unit.helpers import audit_events, last_audit_id, load
from tests.unit.sharing_helpers import (
    Agency,
    PersonRef,
    load_disclosure,
    make_agency,
    make_agreement,
    make_consent,
    make_item,
    make_person,
    read,
    refuse,
    share,
    today,
)

S115 = LawfulBasis.CRIME_AND_DISORDER_S115


@dataclass
class Partnership:
    council: Agency
    police: Agency
    homes: Agency
    person: PersonRef
    note: int


@pytest.fixture
def p(engine: Engine) -> Partnership:
    council = make_agency(engine, OrganisationType.COUNCIL_ASB_TEAM, "Council")
    police = make_agency(engine, OrganisationType.POLICE, "Police")
    homes = make_agency(engine, OrganisationType.COUNCIL_HOUSING, "Homes")
    make_agreement(engine, council.iso, [council.org, police.org, homes.org])
    person = make_person(engine, council.officer)
    note = make_item(engine, council.officer, person_id=person.id)
    return Partnership(council, police, homes, person, note)


def withdraw(
    engine: Engine, actor: Actor, consent_id: int, *, days_ago: int = 0, how: str = "Phoned the team"
) -> list[int]:
    with transaction(engine) as session:
        return withdraw_consent(
            session=session,
            actor=actor,
            consent_id=consent_id,
            withdrawn_on=today() - timedelta(days=days_ago),
            how=how,
        )


def notices(engine: Engine, organisation_id: int) -> list[OrganisationNotice]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(OrganisationNotice)
                .where(OrganisationNotice.organisation_id == organisation_id)
                .order_by(col(OrganisationNotice.id))
            )
        )


def listed(engine: Engine, actor: Actor) -> list[int]:
    with transaction(engine) as session:
        return visible_item_ids(session=session, actor=actor)


def test_withdrawal_flags_the_disclosures_that_rested_on_it_and_tells_their_recipients(
    engine: Engine, p: Partnership
) -> None:
    consent = make_consent(engine, p.council.officer, p.person.id, types=[OrganisationType.POLICE,
                           OrganisationType.COUNCIL_HOUSING])  # fmt: skip
    to_police = share(engine, p.council.officer, [p.note, p.person.details_item_id], p.police.org)
    to_homes = share(engine, p.council.officer, [p.note], p.homes.org, categories=[DataCategory.ASB_HISTORY])
    gateway = share(engine, p.council.officer, [p.note], p.police.org, basis=S115)
    assert gateway.id is not None
    with transaction(engine) as session:
        decide_disclosure(session=session, actor=p.police.iso, disclosure_id=gateway.id, approve=True, note="Agreed.")
    assert to_police.consent_id == to_homes.consent_id == consent
    assert read(engine, p.homes.member, [p.note])[0].access == "disclosed"
    since = last_audit_id(engine)

    flagged = withdraw(engine, p.council.officer, consent, how="  Phoned the ASB team  ")

    assert sorted(flagged) == sorted([to_police.id, to_homes.id])  # type: ignore[type-var]
    for disclosure in (to_police, to_homes):
        assert load_disclosure(engine, disclosure.id).status == DisclosureStatus.CONSENT_WITHDRAWN_REVIEW
    # A share under a legal gateway did not rest on the consent and stays live.
    assert load_disclosure(engine, gateway.id).status == DisclosureStatus.ACTIVE
    record: ConsentRecord = load(engine, ConsentRecord, consent)
    assert record.withdrawn_on == today()
    assert record.withdrawal_method == "Phoned the ASB team"
    assert record.withdrawn_by_user_id == p.council.officer.user_id
    # Each recipient is told, about its own disclosure.
    for agency, disclosure in ((p.police, to_police), (p.homes, to_homes)):
        (notice,) = notices(engine, agency.org.id)
        assert notice.disclosure_id == disclosure.id
        assert notice.message.startswith(f"Consent behind disclosure {disclosure.id} (")
        assert "You can no longer see that information" in notice.message
    assert notices(engine, p.council.org.id) == []
    actions = [(e.action, e.subject_type, e.subject_id) for e in audit_events(engine, since=since)]
    assert (AuditAction.CONSENT_WITHDRAWN, "person", str(p.person.id)) in actions
    for disclosure in (to_police, to_homes):
        assert (AuditAction.DISCLOSURE_CONSENT_WITHDRAWN, "disclosure", str(disclosure.id)) in actions


def test_after_withdrawal_the_recipient_sees_nothing_that_rested_on_it(engine: Engine, p: Partnership) -> None:
    consent = make_consent(engine, p.council.officer, p.person.id, organisations=[p.homes.org])
    share(engine, p.council.officer, [p.note, p.person.details_item_id], p.homes.org)
    assert {v.id for v in read(engine, p.homes.member, [p.note, p.person.details_item_id])} == {
        p.note,
        p.person.details_item_id,
    }
    withdraw(engine, p.council.officer, consent)
    assert read(engine, p.homes.member, [p.note, p.person.details_item_id]) == []
    assert listed(engine, p.homes.member) == []
    # The owner still sees its own records.
    assert [v.access for v in read(engine, p.council.member, [p.note])] == ["owner"]


def test_a_new_consent_based_share_is_refused_at_once(engine: Engine, p: Partnership) -> None:
    consent = make_consent(engine, p.council.officer, p.person.id, organisations=[p.police.org])
    assert share(engine, p.council.officer, [p.note], p.police.org).status == DisclosureStatus.ACTIVE
    withdraw(engine, p.council.officer, consent)
    refusal = refuse(engine, p.council.officer, [p.note], p.police.org)
    assert refusal.message == f"{p.person.name}'s consent has been withdrawn or has expired."
    assert refusal.disclosure.status == DisclosureStatus.REFUSED
    assert [e.action for e in refusal.audit] == [AuditAction.DISCLOSURE_REFUSED]
    # Sharing without consent is still possible on a gateway, with a second person's approval.
    assert share(engine, p.council.officer, [p.note], p.police.org, basis=S115).status == "awaiting_approval"


def test_a_backdated_withdrawal_takes_effect_too(engine: Engine, p: Partnership) -> None:
    consent = make_consent(engine, p.council.officer, p.person.id, organisations=[p.police.org],
                           given_on=today() - timedelta(days=30))  # fmt: skip
    disclosure = share(engine, p.council.officer, [p.note], p.police.org)
    assert withdraw(engine, p.council.officer, consent, days_ago=3) == [disclosure.id]
    assert read(engine, p.police.member, [p.note]) == []
    refuse(engine, p.council.officer, [p.note], p.police.org)


def test_a_withdrawal_cannot_be_dated_in_the_future(engine: Engine, p: Partnership) -> None:
    """Otherwise the consent would still authorise new shares until that date, although the
    person has already withdrawn it."""
    consent = make_consent(engine, p.council.officer, p.person.id, organisations=[p.police.org])
    disclosure = share(engine, p.council.officer, [p.note], p.police.org)
    with pytest.raises(InvalidInput) as caught:
        withdraw(engine, p.council.officer, consent, days_ago=-2)
    assert set(caught.value.field_errors) == {"withdrawn_on"}
    assert load(engine, ConsentRecord, consent).withdrawn_on is None
    assert load_disclosure(engine, disclosure.id).status == DisclosureStatus.ACTIVE


def test_other_consent_of_the_same_person_is_unaffected(engine: Engine, p: Partnership) -> None:
    to_police = make_consent(engine, p.council.officer, p.person.id, organisations=[p.police.org])
    to_homes = make_consent(engine, p.council.officer, p.person.id, organisations=[p.homes.org])
    police_share = share(engine, p.council.officer, [p.note], p.police.org)
    homes_share = share(engine, p.council.officer, [p.note], p.homes.org)
    assert (police_share.consent_id, homes_share.consent_id) == (to_police, to_homes)
    assert withdraw(engine, p.council.officer, to_police) == [police_share.id]
    assert load_disclosure(engine, homes_share.id).status == DisclosureStatus.ACTIVE
    assert [v.access for v in read(engine, p.homes.member, [p.note])] == ["disclosed"]
    assert share(engine, p.council.officer, [p.note], p.homes.org).consent_id == to_homes


def test_withdrawal_does_not_touch_disclosures_that_are_no_longer_live(engine: Engine, p: Partnership) -> None:
    consent = make_consent(engine, p.council.officer, p.person.id, organisations=[p.police.org])
    first = share(engine, p.council.officer, [p.note], p.police.org)
    second = make_consent(engine, p.council.officer, p.person.id, organisations=[p.police.org])
    assert first.consent_id == consent
    assert withdraw(engine, p.council.officer, consent) == [first.id]
    # Withdrawing the second consent flags nothing more, and the first stays under review.
    assert withdraw(engine, p.council.officer, second) == []
    assert load_disclosure(engine, first.id).status == DisclosureStatus.CONSENT_WITHDRAWN_REVIEW
    assert len(notices(engine, p.police.org.id)) == 1


def test_consent_cannot_be_withdrawn_twice_or_without_saying_how(engine: Engine, p: Partnership) -> None:
    consent = make_consent(engine, p.council.officer, p.person.id, organisations=[p.police.org])
    with pytest.raises(InvalidInput) as caught:
        withdraw(engine, p.council.officer, consent, how="   ")
    assert set(caught.value.field_errors) == {"how"}
    withdraw(engine, p.council.officer, consent)
    with pytest.raises(InvalidInput) as caught:
        withdraw(engine, p.council.officer, consent)
    assert caught.value.field_errors == {"consent": "This consent has already been withdrawn."}
    with pytest.raises(NotFound):
        withdraw(engine, p.council.officer, 10**9)


def test_only_people_who_record_consent_can_withdraw_it(engine: Engine, p: Partnership) -> None:
    consent = make_consent(engine, p.council.officer, p.person.id, organisations=[p.police.org])
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied) as caught:
        withdraw(engine, p.council.member, consent)
    assert caught.value.message == DENIED_MESSAGE
    assert load(engine, ConsentRecord, consent).withdrawn_on is None
    assert [e.action for e in audit_events(engine, actor_user_id=p.council.member.user_id, since=since)] == [
        AuditAction.PERMISSION_DENIED
    ]


def test_expired_consent_is_flagged_like_withdrawal_and_the_recipient_told(engine: Engine, p: Partnership) -> None:
    from sharing.permissions import SYSTEM_ACTOR
    from sharing.register import flag_expired_consent

    consent = make_consent(engine, p.council.officer, p.person.id, types=[OrganisationType.POLICE],
                           expires_on=today() + timedelta(days=10))  # fmt: skip
    shared = share(engine, p.council.officer, [p.note], p.police.org, categories=[DataCategory.ASB_HISTORY])
    assert shared.consent_id == consent
    with transaction(engine) as session:
        assert flag_expired_consent(session=session, actor=SYSTEM_ACTOR, today=today()) == []
        # Ten days on, the consent has run out.
        flagged = flag_expired_consent(session=session, actor=SYSTEM_ACTOR, today=today() + timedelta(days=11))
    assert flagged == [shared.id]
    assert load_disclosure(engine, shared.id).status == DisclosureStatus.CONSENT_WITHDRAWN_REVIEW
    with Session(engine) as session:
        notices = session.exec(select(OrganisationNotice).where(OrganisationNotice.disclosure_id == shared.id)).all()
    assert [n.organisation_id for n in notices] == [p.police.org.id]
    assert "has expired" in notices[0].message
    with transaction(engine) as session:  # idempotent: nothing twice
        assert flag_expired_consent(session=session, actor=SYSTEM_ACTOR, today=today() + timedelta(days=11)) == []

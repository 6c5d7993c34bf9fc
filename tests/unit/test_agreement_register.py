"""The register of sharing agreements: filtered by status and by words from the title, the
reference or a party's name, for those who may read it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from sharing.console import list_agreements
from sharing.db import transaction
from sharing.errors import InvalidInput, PermissionDenied
from sharing.models import OrganisationType, SharingAgreement
from sharing.permissions import Actor
from sharing.vocabulary import AgreementStatus
from tests.unit.helpers import audit_events, last_audit_id
from tests.unit.sharing_helpers import make_agency_in, make_agreement


def _ids(engine: Engine, actor: Actor, **filters: str) -> set[int]:
    with transaction(engine) as session:
        rows = list_agreements(session=session, actor=actor, today=date.today(), warning_days=30, **filters)
    return {r.id for r in rows}


def test_the_register_is_filtered_by_status_and_by_every_word_given(engine: Engine) -> None:
    with transaction(engine) as session:
        police = make_agency_in(session, OrganisationType.POLICE, "Constabulary")
        homes = make_agency_in(session, OrganisationType.HOUSING_ASSOCIATION, "Homes")
        care = make_agency_in(session, OrganisationType.ADULT_SOCIAL_CARE, "Care")
    active = make_agreement(engine, police.iso, [police.org, homes.org])
    draft = make_agreement(engine, police.iso, [police.org, care.org], status=AgreementStatus.DRAFT)
    with Session(engine) as session:
        stored = session.get(SharingAgreement, draft)
        assert stored is not None
        draft_reference, draft_title = stored.reference, stored.title

    assert {active, draft} <= _ids(engine, police.iso)
    # A party's name, in any case; then every word must be found somewhere in the agreement.
    assert _ids(engine, police.iso, words=homes.org.name.upper()) == {active}
    assert _ids(engine, police.iso, words=f"  {draft_reference.lower()}   {care.org.name} ") == {draft}
    assert _ids(engine, police.iso, words=f"{draft_title} {homes.org.name}") == set()
    assert _ids(engine, police.iso, words=police.org.name) == {active, draft}
    # By status, alone or with words.
    drafts = _ids(engine, police.iso, status="draft")
    assert draft in drafts and active not in drafts
    assert _ids(engine, police.iso, status="active", words=police.org.name) == {active}
    assert _ids(engine, police.iso, status="suspended", words=police.org.name) == set()

    with pytest.raises(InvalidInput) as wrong, transaction(engine) as session:
        list_agreements(session=session, actor=police.iso, today=date.today(), warning_days=30, status="signed")
    assert wrong.value.field_errors == {"status": "Choose a status from the list."}
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied):
        _ids(engine, police.member, words=police.org.name)  # a panel member does not read the register
    assert [e.action for e in audit_events(engine, since=since)] == ["access:permission:denied"]

"""The fictional demo partnership: seeded once, complete, and every account signs in."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from panels.case_models import Case
from panels.demo import DEMO_ACCOUNTS, DEMO_ORGANISATIONS, DEMO_PANELS, DEMO_PASSWORD, seed_demo
from panels.models import Panel, PanelOrganisation
from sharing.audit import AuditAction
from sharing.config import get_settings
from sharing.db import transaction
from sharing.models import InformationItem, Organisation, OrganisationType, Role, User, UserRole
from tests.unit.helpers import audit_events, last_audit_id, redeem, sign_in

EXPECTED_ACCOUNTS: dict[str, tuple[str, set[Role]]] = {
    "asb.officer@eastbrook.demo": ("Eastbrook City Council ASB Team", {Role.LEAD_OFFICER}),
    "housing.officer@eastbrook.demo": ("Eastbrook City Homes", {Role.LEAD_OFFICER}),
    "psg.chair@eastbrook.demo": ("Eastbrook City Council ASB Team", {Role.PANEL_MEMBER, Role.MANAGER}),
    "ccp.chair@eastbrook.demo": ("Eastbrook City Homes", {Role.PANEL_MEMBER}),
    "tep.chair@eastbrook.demo": ("Eastbrook City Homes", {Role.PANEL_MEMBER}),
    "legal@eastbrook.demo": ("Eastbrook Legal Services", {Role.PANEL_MEMBER}),
    "solutions@eastbrook.demo": ("Eastbrook Housing Solutions", {Role.PANEL_MEMBER}),
    "pc.jones@police.demo": ("Eastshire Police", {Role.PANEL_MEMBER}),
    "sw.patel@adultcare.demo": ("Eastshire Adult Social Care", {Role.PANEL_MEMBER}),
    "cs.okafor@childrens.demo": ("Eastshire Children's Services", {Role.PANEL_MEMBER}),
    "nurse.reid@health.demo": ("Eastbrook Mental Health Trust", {Role.PANEL_MEMBER}),
    "ha.officer@riverside.demo": ("Riverside Homes", {Role.LEAD_OFFICER, Role.PANEL_MEMBER}),
    "iso@eastbrook.demo": ("Eastbrook City Council ASB Team", {Role.INFORMATION_SHARING_OFFICER}),
    "admin@eastbrook.demo": ("Eastbrook City Council ASB Team", {Role.ADMINISTRATOR}),
}

EXPECTED_PANELS: dict[str, tuple[str, set[str]]] = {
    "Problem Solving Group": (
        "psg.chair@eastbrook.demo",
        {
            "Eastbrook City Council ASB Team",
            "Eastbrook City Homes",
            "Eastshire Police",
            "Eastshire Adult Social Care",
            "Eastshire Children's Services",
            "Eastbrook Mental Health Trust",
            "Riverside Homes",
        },
    ),
    "Complex Case Panel": (
        "ccp.chair@eastbrook.demo",
        {"Eastbrook City Homes", "Eastbrook Housing Solutions", "Eastshire Police"},
    ),
    "Tenancy Enforcement Panel": ("tep.chair@eastbrook.demo", {"Eastbrook City Homes", "Eastbrook Legal Services"}),
}


def _counts(session: Session) -> tuple[int, int, int, int, int]:
    def count(column: object) -> int:
        return session.exec(select(func.count(column))).one()  # type: ignore[call-overload]

    return (
        count(col(Organisation.id)),
        count(col(User.id)),
        count(col(UserRole.user_id)),
        count(col(Panel.id)),
        count(col(PanelOrganisation.panel_id)),
    )


def test_the_demo_definition_is_what_the_tests_expect() -> None:
    assert {a.email: (a.organisation, set(a.roles)) for a in DEMO_ACCOUNTS} == EXPECTED_ACCOUNTS
    assert len(DEMO_ACCOUNTS) == 14
    assert {p.name: (p.chair_email, set(p.organisations)) for p in DEMO_PANELS} == EXPECTED_PANELS
    assert len(DEMO_ORGANISATIONS) == 9


def test_seeding_again_adds_nothing(engine: Engine) -> None:
    with Session(engine) as session:
        counts = _counts(session)
    before = last_audit_id(engine)
    with transaction(engine) as session:
        added = seed_demo(session)
    assert added == {
        "organisations": 0,
        "users": 0,
        "panels": 0,
        "sharing": 0,
        "cases": 0,
        "meetings": 0,
        "actions": 0,
    }
    with Session(engine) as session:
        assert _counts(session) == counts
    assert audit_events(engine, action=AuditAction.DEMO_SEEDED, since=before) == []


def test_a_role_the_demo_gained_since_an_account_was_made_is_given_back(engine: Engine) -> None:
    """An older demo database: the team manager made before the role was added to the demo."""
    with transaction(engine) as session:
        manager = session.exec(select(User).where(User.email == "psg.chair@eastbrook.demo")).one()
        row = session.get(UserRole, (manager.id, Role.MANAGER))
        assert row is not None
        session.delete(row)
    with transaction(engine) as session:
        added = seed_demo(session)
    assert added["users"] == 0
    with Session(engine) as session:
        roles = set(session.exec(select(UserRole.role).where(UserRole.user_id == manager.id)))
    assert roles == {Role.PANEL_MEMBER, Role.MANAGER}


def test_the_demo_seeds_its_cases_after_the_sharing_demo(engine: Engine) -> None:
    with Session(engine) as session:
        refs = set(session.exec(select(Case.reference)))
        assert {"ASB-2026-0001", "ASB-2026-0002", "ASB-2026-0003"} <= refs
        assert len([r for r in refs if r.startswith("RH-")]) == 6
        first = session.exec(select(Case).where(Case.reference == "ASB-2026-0001")).one()
        carter_note = session.exec(
            select(InformationItem).where(col(InformationItem.title).startswith("ASB-2026-0001:"))
        ).one()
        assert carter_note.case_reference == first.reference
        assert carter_note.owner_organisation_id == first.lead_organisation_id


def test_the_first_seed_was_audited(engine: Engine) -> None:
    first = audit_events(engine, action=AuditAction.DEMO_SEEDED)[0]
    assert first.actor_label == "system"
    assert first.actor_user_id is None
    assert first.detail == {"organisations": 9, "users": 14, "panels": 3}


def test_demo_organisations_exist_with_their_types(db: Session) -> None:
    for name, org_type in DEMO_ORGANISATIONS:
        org = db.exec(select(Organisation).where(Organisation.name == name)).one()
        assert OrganisationType(org.type) == org_type
        assert org.active


def test_demo_accounts_exist_with_their_organisation_and_roles(db: Session) -> None:
    for email, (organisation, roles) in EXPECTED_ACCOUNTS.items():
        user = db.exec(select(User).where(User.email == email)).one()
        org = db.get(Organisation, user.organisation_id)
        assert org is not None and org.name == organisation, email
        assert set(db.exec(select(UserRole.role).where(UserRole.user_id == user.id))) == {str(r) for r in roles}
        assert user.is_demo is True
        assert user.is_active is True
        assert user.totp_enabled is False
        assert user.password_hash and DEMO_PASSWORD not in user.password_hash


def test_demo_panels_have_their_chairs_and_organisations(db: Session) -> None:
    for name, (chair_email, organisations) in EXPECTED_PANELS.items():
        panel = db.exec(select(Panel).where(Panel.name == name)).one()
        chair = db.get(User, panel.chair_user_id)
        assert chair is not None and chair.email == chair_email
        assert panel.active
        assert panel.purpose
        member_names = set(
            db.exec(
                select(Organisation.name)
                .join(PanelOrganisation, col(PanelOrganisation.organisation_id) == col(Organisation.id))
                .where(PanelOrganisation.panel_id == panel.id)
            )
        )
        assert member_names == organisations


def test_every_demo_account_signs_in_with_the_demo_password(engine: Engine) -> None:
    assert get_settings().is_demo
    before = last_audit_id(engine)
    for email in EXPECTED_ACCOUNTS:
        step = sign_in(engine, email, DEMO_PASSWORD)
        assert step.next == "done", email
        assert step.ticket
        started = redeem(engine, step.ticket)
        assert started.user_id == step.user_id
        events = audit_events(engine, subject_type="user", subject_id=step.user_id, since=before)
        assert [e.action for e in events] == [AuditAction.SIGNIN_SUCCEEDED], email
        assert events[0].actor_label == email
    assert audit_events(engine, action=AuditAction.SIGNIN_FAILED, since=before) == []
    with Session(engine) as session:
        users = session.exec(select(User).where(col(User.email).in_(list(EXPECTED_ACCOUNTS)))).all()
    assert all(u.failed_attempts == 0 and u.locked_until is None for u in users)


@pytest.mark.parametrize("email", ["admin@eastbrook.demo", "iso@eastbrook.demo"])
def test_privileged_demo_accounts_need_totp_once_demo_mode_is_off(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, email: str
) -> None:
    monkeypatch.setattr(get_settings(), "demo_mode", False)
    before = last_audit_id(engine)
    step = sign_in(engine, email, DEMO_PASSWORD)
    assert step.next == "enrol_totp"
    assert step.ticket is None
    assert audit_events(engine, subject_type="user", subject_id=step.user_id, since=before) == []

"""Roles, permissions and the access chokepoint: a refusal is audited although the action's
own transaction rolls back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from sharing.access import DENIED_MESSAGE, require
from sharing.audit import AuditAction, Outcome
from sharing.db import transaction
from sharing.directory import (
    configure_sso,
    create_organisation,
    create_user,
    list_organisations,
    list_users,
    reset_password,
    set_user_active,
)
from sharing.errors import PermissionDenied
from sharing.models import Organisation, Role
from sharing.permissions import ROLE_PERMISSIONS, SYSTEM_ACTOR, Actor, Permission, permissions_for
from tests.conftest import actor_of, unique
from tests.unit.helpers import audit_events, last_audit_id

MakeUser = Callable[..., tuple[int, str]]

P = Permission
EXPECTED: dict[Role, set[Permission]] = {
    # Administrators run the portal; they do not read case information.
    Role.ADMINISTRATOR: {
        P.ADMIN_ORGANISATIONS_READ, P.ADMIN_ORGANISATIONS_WRITE, P.ADMIN_USERS_READ, P.ADMIN_USERS_WRITE,
        P.ADMIN_SSO_WRITE, P.AUDIT_EVENTS_READ, P.PANELS_PANELS_READ, P.SHARING_AGREEMENTS_READ,
        P.SHARING_AGREEMENTS_MANAGE, P.ADMIN_POLICY_WRITE, P.PANELS_PANELS_MANAGE,
        P.SHARING_AGREEMENTS_MANAGE, P.ADMIN_POLICY_WRITE, P.ADMIN_SCHEDULER_READ, P.ADMIN_SCHEDULER_RUN,
        P.ADMIN_OUTBOX_READ,
        P.NOTIFICATIONS_OWN_READ,
    },
    Role.LEAD_OFFICER: {
        P.PANELS_PANELS_READ, P.SHARING_PEOPLE_CREATE, P.SHARING_ITEMS_CREATE, P.SHARING_ITEMS_READ,
        P.SHARING_AGREEMENTS_READ, P.SHARING_CONSENT_RECORD, P.SHARING_DISCLOSURES_REQUEST,
        P.PANELS_MEETINGS_SHARE_VERBALLY,
        P.CASES_REPORTS_RECORD, P.CASES_CASES_READ, P.CASES_CASES_MANAGE, P.CASES_INCIDENTS_RECORD,
        P.CASES_CASE_REVIEW_MANAGE, P.PANELS_REFERRALS_CREATE, P.PANELS_MEETINGS_ATTEND, P.PANELS_MEETINGS_CHAIR,
        P.ACTIONS_PLANS_MANAGE, P.ACTIONS_ACTIONS_READ, P.ACTIONS_ACTIONS_UPDATE, P.NOTIFICATIONS_OWN_READ,
    },
    # Partners see what is disclosed to them and may add incidents to cases they can see.
    # Anyone who sits on panels may be made a panel's chair; the chair is checked per panel.
    # Owners of actions in partner agencies update them even when they see nothing else of the case.
    # They record what they told a meeting as a disclosure, but share nothing else.
    Role.PANEL_MEMBER: {
        P.PANELS_PANELS_READ, P.SHARING_ITEMS_READ, P.CASES_CASES_READ, P.CASES_INCIDENTS_RECORD,
        P.PANELS_MEETINGS_ATTEND, P.PANELS_MEETINGS_CHAIR, P.PANELS_MEETINGS_SHARE_VERBALLY,
        P.ACTIONS_ACTIONS_READ, P.ACTIONS_ACTIONS_UPDATE, P.NOTIFICATIONS_OWN_READ,
    },
    # Team managers lead cases too, and alone approve closures.
    Role.MANAGER: {
        P.PANELS_PANELS_READ, P.SHARING_PEOPLE_CREATE, P.SHARING_ITEMS_CREATE, P.SHARING_ITEMS_READ,
        P.SHARING_AGREEMENTS_READ, P.SHARING_CONSENT_RECORD, P.SHARING_DISCLOSURES_REQUEST,
        P.PANELS_MEETINGS_SHARE_VERBALLY,
        P.CASES_REPORTS_RECORD, P.CASES_CASES_READ, P.CASES_CASES_MANAGE, P.CASES_INCIDENTS_RECORD,
        P.CASES_CASE_REVIEW_MANAGE, P.CASES_CLOSURE_APPROVE, P.PANELS_REFERRALS_CREATE, P.PANELS_MEETINGS_ATTEND,
        P.PANELS_MEETINGS_CHAIR,
        P.CASES_CASE_REVIEW_MANAGE, P.CASES_CLOSURE_APPROVE, P.ACTIONS_PLANS_MANAGE, P.ACTIONS_ACTIONS_READ,
        P.ACTIONS_ACTIONS_UPDATE, P.ACTIONS_AGENCY_READ, P.NOTIFICATIONS_OWN_READ,
    },
    Role.INFORMATION_SHARING_OFFICER: {
        P.AUDIT_EVENTS_READ, P.PANELS_PANELS_READ, P.SHARING_ITEMS_READ, P.SHARING_AGREEMENTS_READ,
        P.SHARING_AGREEMENTS_MANAGE, P.SHARING_CONSENT_RECORD, P.SHARING_DISCLOSURES_REQUEST,
        P.PANELS_MEETINGS_SHARE_VERBALLY,
        P.SHARING_DISCLOSURES_APPROVE, P.SHARING_CONSOLE_READ, P.SHARING_SAR_MANAGE, P.SHARING_RETENTION_MANAGE,
        P.CASES_CASES_READ, P.NOTIFICATIONS_OWN_READ,
    },
}  # fmt: skip


def _actor(*roles: Role, user_id: int | None = None) -> Actor:
    return Actor(
        user_id=user_id,
        organisation_id=None,
        roles=frozenset(roles),
        email=f"{unique('actor')}@example.com",
    )


@pytest.mark.parametrize("role", list(Role))
def test_each_role_grants_exactly_its_permissions(role: Role) -> None:
    assert set(ROLE_PERMISSIONS[role]) == EXPECTED[role]
    actor = _actor(role)
    for permission in Permission:
        assert actor.can(permission) is (permission in EXPECTED[role])


def test_every_role_is_mapped_and_every_permission_is_granted_to_someone() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)
    assert set().union(*ROLE_PERMISSIONS.values()) == set(Permission)


def test_permission_names_follow_scope_resource_action() -> None:
    for permission in Permission:
        scope, resource, action = str(permission).split(":")
        assert scope and resource and action


def test_no_roles_grant_nothing_and_the_system_actor_can_do_everything() -> None:
    nobody = _actor()
    assert nobody.permissions == frozenset()
    assert not any(nobody.can(p) for p in Permission)
    assert SYSTEM_ACTOR.permissions == frozenset(Permission)
    assert SYSTEM_ACTOR.label == "system"
    assert Actor(user_id=7, organisation_id=None).label == "user 7"


@settings(max_examples=200, deadline=None)
@given(roles=st.frozensets(st.sampled_from(list(Role))), permission=st.sampled_from(list(Permission)))
def test_an_actor_can_exactly_what_one_of_its_roles_grants(roles: frozenset[Role], permission: Permission) -> None:
    actor = Actor(user_id=1, organisation_id=1, roles=roles, email="someone@example.com")
    granted = any(permission in ROLE_PERMISSIONS[role] for role in roles)
    assert actor.can(permission) is granted
    assert (permission in permissions_for(roles)) is granted
    if granted:
        require(actor, permission)
    else:
        with pytest.raises(PermissionDenied) as caught:
            require(actor, permission, subject_type="thing", subject_id=3)
        assert caught.value.message == DENIED_MESSAGE
        assert len(caught.value.durable_effects) == 1


def test_a_refusal_is_audited_although_the_action_is_rolled_back(engine: Engine, make_user: MakeUser) -> None:
    user_id, email = make_user((Role.PANEL_MEMBER,), password=None)
    actor = actor_of(engine, user_id)
    left_behind = unique("Should Not Exist")
    before = last_audit_id(engine)

    with pytest.raises(PermissionDenied) as caught, transaction(engine) as session:
        # Something the same unit of work wrote before the refusal ...
        session.add(Organisation(name=left_behind, slug=left_behind.lower(), type="police"))
        session.flush()
        list_users(session=session, actor=actor)
    assert caught.value.message == DENIED_MESSAGE

    with Session(engine) as session:
        # ... is rolled back,
        assert session.exec(select(Organisation).where(Organisation.name == left_behind)).first() is None
    # ... but the denial is on the record.
    (event,) = audit_events(engine, actor_user_id=user_id, since=before)
    assert event.action == AuditAction.PERMISSION_DENIED
    assert event.outcome == Outcome.DENIED
    assert event.actor_label == email
    assert event.actor_organisation_id == actor.organisation_id
    assert event.subject_type == "user"
    assert event.reason == "lacks admin:users:read"
    assert event.detail == {"permission": "admin:users:read", "roles": ["panel_member"]}


def test_an_administrator_can_list_users_and_organisations(
    engine: Engine, make_user: MakeUser, make_organisation: Callable[..., int]
) -> None:
    org_id = make_organisation()
    member_id, member_email = make_user(organisation_id=org_id, password=None)
    admin_id, _ = make_user((Role.ADMINISTRATOR,), password=None)
    admin = actor_of(engine, admin_id)
    before = last_audit_id(engine)

    with transaction(engine) as session:
        users = list_users(session=session, actor=admin, organisation_id=org_id)
        organisations = list_organisations(session=session, actor=admin)
    assert [(u.id, u.email, u.roles) for u in users] == [(member_id, member_email, (Role.PANEL_MEMBER,))]
    (mine,) = [o for o in organisations if o.id == org_id]
    assert mine.user_count == 1
    assert audit_events(engine, action=AuditAction.PERMISSION_DENIED, actor_user_id=admin_id, since=before) == []


def _directory_calls(target_user_id: int, organisation_id: int) -> dict[str, tuple[Permission, Callable[..., Any]]]:
    return {
        "list_organisations": (
            Permission.ADMIN_ORGANISATIONS_READ,
            lambda s, a: list_organisations(session=s, actor=a),
        ),
        "create_organisation": (
            Permission.ADMIN_ORGANISATIONS_WRITE,
            lambda s, a: create_organisation(session=s, actor=a, name=unique("Org"), type="police"),
        ),
        "list_users": (Permission.ADMIN_USERS_READ, lambda s, a: list_users(session=s, actor=a)),
        "create_user": (
            Permission.ADMIN_USERS_WRITE,
            lambda s, a: create_user(
                session=s,
                actor=a,
                email=f"{unique('new')}@example.com",
                full_name="New Person",
                organisation_id=organisation_id,
                roles=["panel_member"],
                password=None,
            ),
        ),
        "set_user_active": (
            Permission.ADMIN_USERS_WRITE,
            lambda s, a: set_user_active(session=s, actor=a, user_id=target_user_id, active=False),
        ),
        "reset_password": (
            Permission.ADMIN_USERS_WRITE,
            lambda s, a: reset_password(session=s, actor=a, user_id=target_user_id, new_password="x" * 20),
        ),
        "configure_sso": (
            Permission.ADMIN_SSO_WRITE,
            lambda s, a: configure_sso(
                session=s,
                actor=a,
                organisation_id=organisation_id,
                enabled=False,
                discovery_url="",
                client_id="",
                client_secret=None,
                allow_provisioning=False,
            ),
        ),
    }


@pytest.mark.parametrize("role", [Role.LEAD_OFFICER, Role.PANEL_MEMBER, Role.INFORMATION_SHARING_OFFICER])
def test_only_administrators_reach_the_admin_services(
    engine: Engine, make_user: MakeUser, make_organisation: Callable[..., int], role: Role
) -> None:
    org_id = make_organisation()
    target_id, _ = make_user(organisation_id=org_id, password=None)
    actor = _actor(role)
    before = last_audit_id(engine)
    calls = _directory_calls(target_id, org_id)

    for call in calls.values():
        with pytest.raises(PermissionDenied), transaction(engine) as session:
            call[1](session, actor)

    events = audit_events(engine, actor_label=actor.email, since=before)
    assert [e.action for e in events] == [AuditAction.PERMISSION_DENIED] * len(calls)
    assert [e.reason for e in events] == [f"lacks {permission}" for permission, _ in calls.values()]
    assert all(e.detail["roles"] == [str(role)] for e in events)
    # Nothing changed for the person the refused calls were aimed at.
    assert audit_events(engine, subject_type="user", subject_id=target_id, since=before) == [
        e for e in events if e.subject_id == str(target_id)
    ]
    with Session(engine) as session:
        assert session.exec(select(Organisation).where(Organisation.id == org_id)).one().sso_enabled is False


def test_the_same_calls_succeed_for_an_administrator(
    engine: Engine, make_user: MakeUser, make_organisation: Callable[..., int], admin: Actor
) -> None:
    org_id = make_organisation()
    target_id, _ = make_user(organisation_id=org_id, password=None)
    before = last_audit_id(engine)
    for _name, (_permission, call) in _directory_calls(target_id, org_id).items():
        with transaction(engine) as session:
            call(session, admin)
    actions = [e.action for e in audit_events(engine, actor_user_id=admin.user_id, since=before)]
    assert AuditAction.PERMISSION_DENIED not in actions
    assert actions == [
        AuditAction.ORGANISATION_CREATED,
        AuditAction.USER_CREATED,
        AuditAction.USER_DEACTIVATED,
        AuditAction.PASSWORD_RESET,
        AuditAction.ORGANISATION_SSO_CONFIGURED,
    ]

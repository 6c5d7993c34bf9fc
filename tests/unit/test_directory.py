"""The administrator's services: organisations, accounts and single sign-on settings."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from sharing.accounts import verify_password
from sharing.audit import AuditAction, Outcome
from sharing.config import get_settings
from sharing.crypto import decrypt_secret
from sharing.db import transaction
from sharing.directory import (
    OrganisationRead,
    UserRead,
    configure_sso,
    create_organisation,
    create_user,
    list_organisations,
    list_sso_organisations,
    list_users,
    set_user_active,
    slugify,
)
from sharing.errors import InvalidInput, NotFound
from sharing.models import AuditEvent, Organisation, OrganisationType, Role, User, UserRole
from sharing.permissions import Actor
from tests.conftest import unique
from tests.unit.helpers import PASSWORD, audit_events, last_audit_id, load, load_user

MakeUser = Callable[..., tuple[int, str]]
MakeOrganisation = Callable[..., int]
DISCOVERY = "https://login.example.com/.well-known/openid-configuration"


def _create_org(engine: Engine, actor: Actor, name: str, type: str = "police") -> OrganisationRead:
    with transaction(engine) as session:
        return create_organisation(session=session, actor=actor, name=name, type=type)


def _create_user(engine: Engine, actor: Actor, **fields: object) -> UserRead:
    values: dict[str, object] = {
        "email": f"{unique('person')}@example.com",
        "full_name": "Pat Doe",
        "organisation_id": None,
        "roles": ["panel_member"],
        "password": None,
    }
    values.update(fields)
    with transaction(engine) as session:
        return create_user(session=session, actor=actor, **values)  # type: ignore[arg-type]


def _organisation_count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count(col(Organisation.id)))).one()


def _user_count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count(col(User.id)))).one()


def _configure(engine: Engine, actor: Actor, organisation_id: int, **fields: object) -> OrganisationRead:
    values: dict[str, object] = {
        "enabled": True,
        "discovery_url": DISCOVERY,
        "client_id": "portal-client",
        "client_secret": None,
        "allow_provisioning": False,
    }
    values.update(fields)
    with transaction(engine) as session:
        return configure_sso(session=session, actor=actor, organisation_id=organisation_id, **values)  # type: ignore[arg-type]


# --- organisations ---------------------------------------------------------------------


def test_create_organisation(engine: Engine, admin: Actor) -> None:
    name = unique("Eastshire  Fire\tand Rescue ")
    before = last_audit_id(engine)
    read = _create_org(engine, admin, name, "fire_and_rescue")

    clean = " ".join(name.split())
    assert read.name == clean
    assert read.slug == slugify(clean)
    assert read.type == OrganisationType.FIRE_AND_RESCUE
    assert read.type_label == "Fire and rescue"
    assert read.active is True
    assert read.sso_enabled is False
    assert read.user_count == 0
    stored = load(engine, Organisation, read.id)
    assert stored.name == clean

    (event,) = audit_events(engine, subject_type="organisation", subject_id=read.id, since=before)
    assert event.action == AuditAction.ORGANISATION_CREATED
    assert event.outcome == Outcome.SUCCESS
    assert event.actor_user_id == admin.user_id
    assert event.detail == {"name": clean, "type": "fire_and_rescue"}


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_organisation_name_is_required(engine: Engine, admin: Actor, name: str) -> None:
    count = _organisation_count(engine)
    before = last_audit_id(engine)
    with pytest.raises(InvalidInput) as caught:
        _create_org(engine, admin, name)
    assert set(caught.value.field_errors) == {"name"}
    assert _organisation_count(engine) == count
    assert audit_events(engine, action=AuditAction.ORGANISATION_CREATED, since=before) == []


def test_organisation_name_has_a_length_limit(engine: Engine, admin: Actor) -> None:
    with pytest.raises(InvalidInput) as caught:
        _create_org(engine, admin, "x" * 201)
    assert "200" in caught.value.field_errors["name"]


def test_organisation_names_are_unique_ignoring_case(engine: Engine, admin: Actor) -> None:
    name = unique("Riverside Housing")
    _create_org(engine, admin, name)
    count = _organisation_count(engine)
    before = last_audit_id(engine)
    for variant in (name, name.upper(), f"  {name.lower()}  "):
        with pytest.raises(InvalidInput) as caught:
            _create_org(engine, admin, variant)
        assert set(caught.value.field_errors) == {"name"}
        assert "already" in caught.value.field_errors["name"]
    assert _organisation_count(engine) == count
    assert audit_events(engine, action=AuditAction.ORGANISATION_CREATED, since=before) == []


@pytest.mark.parametrize("bad_type", ["", "fire brigade", "POLICE", "administrator"])
def test_organisation_type_must_be_known(engine: Engine, admin: Actor, bad_type: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        _create_org(engine, admin, unique("Org"), bad_type)
    assert set(caught.value.field_errors) == {"type"}


def test_all_organisation_problems_are_reported_together(engine: Engine, admin: Actor) -> None:
    with pytest.raises(InvalidInput) as caught:
        _create_org(engine, admin, " ", "nonsense")
    assert set(caught.value.field_errors) == {"name", "type"}
    assert caught.value.message == "Please correct the fields marked below."


def test_organisations_with_the_same_slug_get_a_suffix(engine: Engine, admin: Actor) -> None:
    stem = unique("Brook")
    first = _create_org(engine, admin, f"{stem} Police")
    second = _create_org(engine, admin, f"{stem}: Police!")
    third = _create_org(engine, admin, f"{stem} -- police")
    assert first.slug == slugify(f"{stem} Police")
    assert second.slug == f"{first.slug}-2"
    assert third.slug == f"{first.slug}-3"


def test_slug_suffix_fits_the_column_for_long_names(engine: Engine, admin: Actor) -> None:
    stem = unique("a") + " " + "very long partnership name " * 4
    first = _create_org(engine, admin, stem + "north")
    second = _create_org(engine, admin, stem + "south")
    assert len(first.slug) == 80
    assert len(second.slug) <= 80
    assert second.slug.endswith("-2")
    assert second.slug != first.slug
    assert load(engine, Organisation, second.id).slug == second.slug


def test_slugify() -> None:
    assert slugify("Eastshire Children's Services") == "eastshire-children-s-services"
    assert slugify("  --Police--  ") == "police"
    assert slugify("!!!") == "organisation"
    assert len(slugify("x" * 300)) == 80


def test_list_organisations_counts_accounts(
    engine: Engine, admin: Actor, make_organisation: MakeOrganisation, make_user: MakeUser
) -> None:
    org_id = make_organisation()
    make_user(organisation_id=org_id, password=None)
    make_user(organisation_id=org_id, password=None)
    with transaction(engine) as session:
        organisations = list_organisations(session=session, actor=admin)
    assert [o.name for o in organisations] == sorted(o.name for o in organisations)
    (mine,) = [o for o in organisations if o.id == org_id]
    assert mine.user_count == 2
    police = next(o for o in organisations if o.name == "Eastshire Police")
    assert police.user_count >= 1


# --- accounts --------------------------------------------------------------------------


def test_create_user(engine: Engine, admin: Actor, make_organisation: MakeOrganisation) -> None:
    org_id = make_organisation()
    local = unique("Kim.Lee")
    password = "a long enough password"
    before = last_audit_id(engine)
    read = _create_user(
        engine,
        admin,
        email=f"  {local}@Example.COM ",
        full_name="  Kim   Lee ",
        job_title=" Case Officer ",
        organisation_id=org_id,
        roles=["panel_member", "lead_officer", "panel_member"],
        password=password,
    )
    assert read.email == f"{local}@example.com".lower()
    assert read.full_name == "Kim Lee"
    assert read.job_title == "Case Officer"
    assert read.organisation_id == org_id
    assert read.roles == (Role.LEAD_OFFICER, Role.PANEL_MEMBER)
    assert read.is_active is True
    assert read.totp_enabled is False
    assert read.locked_until is None

    user = load_user(engine, read.id)
    assert user.password_hash and user.password_hash != password
    assert verify_password(user.password_hash, password)
    assert user.is_demo is False
    with Session(engine) as session:
        roles = set(session.exec(select(UserRole.role).where(UserRole.user_id == read.id)))
    assert roles == {"lead_officer", "panel_member"}

    (event,) = audit_events(engine, subject_type="user", subject_id=read.id, since=before)
    assert event.action == AuditAction.USER_CREATED
    assert event.actor_user_id == admin.user_id
    assert event.detail == {
        "email": read.email,
        "organisation_id": org_id,
        "roles": ["lead_officer", "panel_member"],
    }
    assert password not in json.dumps(event.detail)


def test_an_sso_only_account_has_no_password(engine: Engine, admin: Actor, make_organisation: MakeOrganisation) -> None:
    read = _create_user(engine, admin, organisation_id=make_organisation(), password=None)
    assert load_user(engine, read.id).password_hash is None
    assert audit_events(engine, action=AuditAction.USER_CREATED, subject_id=read.id)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"email": "not-an-email"}, {"email"}),
        ({"email": "someone@"}, {"email"}),
        ({"email": ""}, {"email"}),
        ({"full_name": "   "}, {"full_name"}),
        ({"roles": []}, {"roles"}),
        ({"roles": ["chair"]}, {"roles"}),
        ({"password": "too short"}, {"password"}),
        ({"password": "y" * 257}, {"password"}),
        ({"organisation_id": None}, {"organisation_id"}),
        ({"organisation_id": 10**9}, {"organisation_id"}),
        ({"email": "bad", "roles": [], "full_name": "", "password": "x"}, {"email", "roles", "full_name", "password"}),
    ],
)
def test_create_user_validation(
    engine: Engine,
    admin: Actor,
    make_organisation: MakeOrganisation,
    fields: dict[str, object],
    expected: set[str],
) -> None:
    values: dict[str, object] = {"organisation_id": make_organisation()}
    values.update(fields)
    users = _user_count(engine)
    before = last_audit_id(engine)
    with pytest.raises(InvalidInput) as caught:
        _create_user(engine, admin, **values)
    assert set(caught.value.field_errors) == expected
    assert all(caught.value.field_errors.values())
    assert _user_count(engine) == users
    assert audit_events(engine, action=AuditAction.USER_CREATED, since=before) == []


def test_short_password_message_names_the_minimum(
    engine: Engine, admin: Actor, make_organisation: MakeOrganisation
) -> None:
    minimum = get_settings().password_min_length
    with pytest.raises(InvalidInput) as caught:
        _create_user(engine, admin, organisation_id=make_organisation(), password="p" * (minimum - 1))
    assert str(minimum) in caught.value.field_errors["password"]
    # Exactly the minimum is enough.
    read = _create_user(engine, admin, organisation_id=make_organisation(), password="p" * minimum)
    assert load_user(engine, read.id).password_hash


def test_email_addresses_are_unique_ignoring_case(
    engine: Engine, admin: Actor, make_organisation: MakeOrganisation, make_user: MakeUser
) -> None:
    _, email = make_user(password=None)
    before = last_audit_id(engine)
    for variant in (email, email.upper(), f" {email} "):
        with pytest.raises(InvalidInput) as caught:
            _create_user(engine, admin, email=variant, organisation_id=make_organisation())
        assert set(caught.value.field_errors) == {"email"}
        assert "already" in caught.value.field_errors["email"]
    assert audit_events(engine, action=AuditAction.USER_CREATED, since=before) == []


def test_list_users_is_sorted_by_organisation_then_name(
    engine: Engine, admin: Actor, make_organisation: MakeOrganisation, make_user: MakeUser
) -> None:
    org_id = make_organisation()
    zed, _ = make_user(organisation_id=org_id, password=None, full_name="zed Zephyr")
    amy, _ = make_user(organisation_id=org_id, password=None, full_name="Amy Archer")
    bob, _ = make_user(organisation_id=org_id, password=None, full_name="bob Baker")
    with transaction(engine) as session:
        mine = list_users(session=session, actor=admin, organisation_id=org_id)
        everyone = list_users(session=session, actor=admin)
    assert [u.id for u in mine] == [amy, bob, zed]
    assert {u.organisation_id for u in mine} == {org_id}
    assert {amy, bob, zed} <= {u.id for u in everyone}
    keys = [(u.organisation_name, u.full_name.lower()) for u in everyone]
    assert keys == sorted(keys)
    with transaction(engine) as session:
        newest = list_users(session=session, actor=admin, newest=2)
    assert [u.id for u in newest] == [bob, amy]  # a long list shows the latest accounts first


def test_nobody_can_deactivate_their_own_account(engine: Engine, admin: Actor) -> None:
    assert admin.user_id is not None
    before = last_audit_id(engine)
    with pytest.raises(InvalidInput) as caught, transaction(engine) as session:
        set_user_active(session=session, actor=admin, user_id=admin.user_id, active=False)
    assert set(caught.value.field_errors) == {"user"}
    assert load_user(engine, admin.user_id).is_active is True
    assert audit_events(engine, subject_type="user", subject_id=admin.user_id, since=before) == []


def test_deactivate_and_reactivate(engine: Engine, admin: Actor, make_user: MakeUser) -> None:
    user_id, _ = make_user(password=None)
    before = last_audit_id(engine)
    with transaction(engine) as session:
        assert set_user_active(session=session, actor=admin, user_id=user_id, active=False).is_active is False
    assert load_user(engine, user_id).is_active is False
    with transaction(engine) as session:
        assert set_user_active(session=session, actor=admin, user_id=user_id, active=True).is_active is True
    assert load_user(engine, user_id).is_active is True
    events = audit_events(engine, subject_type="user", subject_id=user_id, since=before)
    assert [(e.action, e.detail) for e in events] == [
        (AuditAction.USER_DEACTIVATED, {"sessions_ended": 0}),
        (AuditAction.USER_REACTIVATED, {"sessions_ended": 0}),
    ]


def test_changing_a_missing_account_is_not_found(engine: Engine, admin: Actor) -> None:
    with pytest.raises(NotFound), transaction(engine) as session:
        set_user_active(session=session, actor=admin, user_id=10**9, active=False)


# --- single sign-on --------------------------------------------------------------------


def test_configure_sso_stores_the_client_secret_encrypted(
    engine: Engine, admin: Actor, make_organisation: MakeOrganisation
) -> None:
    org_id = make_organisation()
    secret = unique("client-secret")
    before = last_audit_id(engine)

    read = _configure(engine, admin, org_id, client_secret=secret, allow_provisioning=True)
    assert read.sso_enabled is True
    assert read.sso_has_secret is True
    assert read.sso_discovery_url == DISCOVERY
    assert read.sso_client_id == "portal-client"
    assert read.sso_allow_provisioning is True

    stored = load(engine, Organisation, org_id)
    assert stored.sso_client_secret_encrypted
    assert secret not in stored.sso_client_secret_encrypted
    assert decrypt_secret(stored.sso_client_secret_encrypted) == secret

    (event,) = audit_events(engine, subject_type="organisation", subject_id=org_id, since=before)
    assert event.action == AuditAction.ORGANISATION_SSO_CONFIGURED
    assert event.actor_user_id == admin.user_id
    assert event.detail["secret_changed"] is True
    assert event.detail["client_id"] == "portal-client"
    assert secret not in json.dumps(event.detail)

    # Leaving the secret out keeps the stored one.
    _configure(engine, admin, org_id, client_id=" renamed-client ", client_secret=None)
    again = load(engine, Organisation, org_id)
    assert again.sso_client_secret_encrypted == stored.sso_client_secret_encrypted
    assert again.sso_client_id == "renamed-client"
    events = audit_events(engine, action=AuditAction.ORGANISATION_SSO_CONFIGURED, subject_id=org_id)
    assert [e.detail["secret_changed"] for e in events] == [True, False]


def test_organisations_with_sso_are_offered_at_sign_in(
    engine: Engine, admin: Actor, make_organisation: MakeOrganisation
) -> None:
    name = unique("SSO Org")
    org_id = make_organisation(name)
    slug = load(engine, Organisation, org_id).slug
    with Session(engine) as session:
        assert (slug, name) not in list_sso_organisations(session=session)
    _configure(engine, admin, org_id, client_secret="s3cret")
    with Session(engine) as session:
        assert (slug, name) in list_sso_organisations(session=session)
    _configure(engine, admin, org_id, enabled=False)
    with Session(engine) as session:
        assert (slug, name) not in list_sso_organisations(session=session)
    assert len(audit_events(engine, action=AuditAction.ORGANISATION_SSO_CONFIGURED, subject_id=org_id)) == 2


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"discovery_url": "", "client_id": "", "client_secret": None},
            {"discovery_url", "client_id", "client_secret"},
        ),
        ({"discovery_url": "login.example.com", "client_secret": "s"}, {"discovery_url"}),
        ({"client_id": "   ", "client_secret": "s"}, {"client_id"}),
        ({"client_secret": ""}, {"client_secret"}),
        ({"enabled": False, "discovery_url": "ftp://login.example.com", "client_id": ""}, {"discovery_url"}),
    ],
)
def test_configure_sso_validation(
    engine: Engine,
    admin: Actor,
    make_organisation: MakeOrganisation,
    fields: dict[str, object],
    expected: set[str],
) -> None:
    org_id = make_organisation()
    before = last_audit_id(engine)
    with pytest.raises(InvalidInput) as caught:
        _configure(engine, admin, org_id, **fields)
    assert set(caught.value.field_errors) == expected
    stored = load(engine, Organisation, org_id)
    assert stored.sso_enabled is False
    assert stored.sso_client_secret_encrypted is None
    assert audit_events(engine, subject_type="organisation", subject_id=org_id, since=before) == []


def test_sso_can_be_switched_off_without_any_settings(
    engine: Engine, admin: Actor, make_organisation: MakeOrganisation
) -> None:
    org_id = make_organisation()
    read = _configure(engine, admin, org_id, enabled=False, discovery_url="  ", client_id="")
    assert read.sso_enabled is False
    assert read.sso_discovery_url == ""
    assert read.sso_has_secret is False
    assert audit_events(engine, action=AuditAction.ORGANISATION_SSO_CONFIGURED, subject_id=org_id)


def test_configure_sso_for_a_missing_organisation_is_not_found(engine: Engine, admin: Actor) -> None:
    with pytest.raises(NotFound):
        _configure(engine, admin, 10**9, client_secret="s")


def test_reset_second_factor_forgets_the_authenticator_and_ends_sessions(
    engine: Engine, make_user: Callable[..., tuple[int, str]], admin: Actor
) -> None:
    import pyotp

    from sharing.accounts import confirm_totp_enrolment, new_totp_secret, sign_in_with_password
    from sharing.directory import reset_second_factor

    user_id, email = make_user((Role.ADMINISTRATOR,))
    secret = new_totp_secret()
    with transaction(engine) as session:
        step = sign_in_with_password(session=session, email=email, password=PASSWORD)
        assert step.next == "enrol_totp"
        confirm_totp_enrolment(session=session, user_id=user_id, secret=secret, code=pyotp.TOTP(secret).now())
    with transaction(engine) as session:
        read = reset_second_factor(session=session, actor=admin, user_id=user_id)
    assert read.totp_enabled is False
    with transaction(engine) as session:
        assert sign_in_with_password(session=session, email=email, password=PASSWORD).next == "enrol_totp"
        events = session.exec(
            select(AuditEvent).where(
                AuditEvent.action == "admin:user:totp_reset", AuditEvent.subject_id == str(user_id)
            )
        ).all()
    assert len(events) == 1
    assert events[0].actor_user_id == admin.user_id
    with pytest.raises(InvalidInput), transaction(engine) as session:
        reset_second_factor(session=session, actor=admin, user_id=user_id)

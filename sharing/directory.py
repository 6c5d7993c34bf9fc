"""Organisations and the people who sign in: the administrator's services."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlmodel import Session, col, func, select

from sharing.access import require
from sharing.accounts import end_all_sessions, hash_password, normalise_email, roles_of
from sharing.audit import AuditAction, Outcome, record_event
from sharing.config import get_settings
from sharing.crypto import encrypt_secret
from sharing.errors import InvalidInput, NotFound
from sharing.models import Organisation, OrganisationType, Role, User, UserRole
from sharing.permissions import Actor, Permission


@dataclass(frozen=True)
class OrganisationRead:
    id: int
    name: str
    slug: str
    type: OrganisationType
    type_label: str
    active: bool
    sso_enabled: bool
    sso_discovery_url: str
    sso_client_id: str
    sso_has_secret: bool
    sso_allow_provisioning: bool
    user_count: int


@dataclass(frozen=True)
class UserRead:
    id: int
    email: str
    full_name: str
    job_title: str
    organisation_id: int
    organisation_name: str
    roles: tuple[Role, ...]
    is_active: bool
    totp_enabled: bool
    locked_until: datetime | None
    last_sign_in_at: datetime | None


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:80] or "organisation"


def _organisation_read(org: Organisation, user_count: int) -> OrganisationRead:
    assert org.id is not None
    return OrganisationRead(
        id=org.id,
        name=org.name,
        slug=org.slug,
        type=OrganisationType(org.type),
        type_label=OrganisationType(org.type).label,
        active=org.active,
        sso_enabled=org.sso_enabled,
        sso_discovery_url=org.sso_discovery_url or "",
        sso_client_id=org.sso_client_id or "",
        sso_has_secret=bool(org.sso_client_secret_encrypted),
        sso_allow_provisioning=org.sso_allow_provisioning,
        user_count=user_count,
    )


def list_organisations(*, session: Session, actor: Actor) -> list[OrganisationRead]:
    """Every organisation in the partnership, with how many accounts each has."""
    require(actor, Permission.ADMIN_ORGANISATIONS_READ, subject_type="organisation")
    counts = dict(
        session.exec(select(User.organisation_id, func.count(col(User.id))).group_by(col(User.organisation_id))).all()
    )
    orgs = session.exec(select(Organisation).order_by(col(Organisation.name))).all()
    return [_organisation_read(org, counts.get(org.id or 0, 0)) for org in orgs]


def create_organisation(*, session: Session, actor: Actor, name: str, type: str) -> OrganisationRead:
    """Add a partner agency."""
    require(actor, Permission.ADMIN_ORGANISATIONS_WRITE, subject_type="organisation")
    errors: dict[str, str] = {}
    clean_name = " ".join(name.split())
    if not clean_name:
        errors["name"] = "Enter the organisation's name."
    elif len(clean_name) > 200:
        errors["name"] = "Keep the name under 200 characters."
    elif session.exec(select(Organisation).where(func.lower(Organisation.name) == clean_name.lower())).first():
        errors["name"] = f"There is already an organisation called '{clean_name}'."
    try:
        org_type = OrganisationType(type)
    except ValueError:
        errors["type"] = "Choose what kind of agency this is."
    if errors:
        raise InvalidInput(errors)
    slug = base = slugify(clean_name)
    suffix = 2
    while session.exec(select(Organisation).where(Organisation.slug == slug)).first():
        tail = f"-{suffix}"
        slug = base[: 80 - len(tail)] + tail  # the column holds 80 characters
        suffix += 1
    org = Organisation(name=clean_name, slug=slug, type=org_type)
    session.add(org)
    session.flush()
    record_event(
        session,
        action=AuditAction.ORGANISATION_CREATED,
        outcome=Outcome.SUCCESS,
        actor=actor,
        subject_type="organisation",
        subject_id=org.id,
        detail={"name": clean_name, "type": str(org_type)},
    )
    return _organisation_read(org, 0)


def configure_sso(
    *,
    session: Session,
    actor: Actor,
    organisation_id: int,
    enabled: bool,
    discovery_url: str,
    client_id: str,
    client_secret: str | None,
    allow_provisioning: bool,
) -> OrganisationRead:
    """Set an organisation's identity provider.  ``client_secret=None`` keeps the stored one."""
    require(actor, Permission.ADMIN_SSO_WRITE, subject_type="organisation", subject_id=organisation_id)
    org = session.get(Organisation, organisation_id)
    if org is None:
        raise NotFound("That organisation no longer exists.")
    discovery_url = discovery_url.strip()
    client_id = client_id.strip()
    errors: dict[str, str] = {}
    if (enabled or discovery_url) and not discovery_url.startswith(("https://", "http://")):
        errors["discovery_url"] = (
            "Enter the identity provider's discovery address, usually ending in /.well-known/openid-configuration."
        )
    if enabled and not client_id:
        errors["client_id"] = "Enter the client ID the identity provider gave the portal."
    if enabled and not (client_secret or org.sso_client_secret_encrypted):
        errors["client_secret"] = "Enter the client secret the identity provider gave the portal."
    if errors:
        raise InvalidInput(errors)
    org.sso_enabled = enabled
    org.sso_discovery_url = discovery_url or None
    org.sso_client_id = client_id or None
    if client_secret:
        org.sso_client_secret_encrypted = encrypt_secret(client_secret)
    org.sso_allow_provisioning = allow_provisioning
    session.add(org)
    record_event(
        session,
        action=AuditAction.ORGANISATION_SSO_CONFIGURED,
        outcome=Outcome.SUCCESS,
        actor=actor,
        subject_type="organisation",
        subject_id=org.id,
        detail={
            "enabled": enabled,
            "discovery_url": discovery_url,
            "client_id": client_id,
            "secret_changed": bool(client_secret),
            "allow_provisioning": allow_provisioning,
        },
    )
    count = session.exec(select(func.count(col(User.id))).where(User.organisation_id == org.id)).one()
    return _organisation_read(org, count)


def _user_read(session: Session, user: User, org_names: dict[int, str] | None = None) -> UserRead:
    assert user.id is not None
    if org_names is None:
        org = session.get(Organisation, user.organisation_id)
        org_name = org.name if org else ""
    else:
        org_name = org_names.get(user.organisation_id, "")
    return UserRead(
        id=user.id,
        email=user.email,
        full_name=user.full_name,
        job_title=user.job_title or "",
        organisation_id=user.organisation_id,
        organisation_name=org_name,
        roles=tuple(sorted(roles_of(session, user.id))),
        is_active=user.is_active,
        totp_enabled=user.totp_enabled,
        locked_until=user.locked_until,
        last_sign_in_at=user.last_sign_in_at,
    )


def list_users(
    *, session: Session, actor: Actor, organisation_id: int | None = None, newest: int | None = None
) -> list[UserRead]:
    """Accounts, optionally of one organisation, by organisation then name; with ``newest``,
    only that many of the most recently added (newest first), for a long list."""
    require(actor, Permission.ADMIN_USERS_READ, subject_type="user")
    org_names = {o.id: o.name for o in session.exec(select(Organisation)).all() if o.id is not None}
    query = select(User)
    if organisation_id is not None:
        query = query.where(User.organisation_id == organisation_id)
    if newest is not None:
        query = query.order_by(col(User.id).desc()).limit(newest)
    users = session.exec(query).all()
    reads = [_user_read(session, u, org_names) for u in users]
    if newest is not None:
        return reads
    return sorted(reads, key=lambda r: (r.organisation_name, r.full_name.lower()))


def password_problem(password: str) -> str | None:
    minimum = get_settings().password_min_length
    if len(password) < minimum:
        return f"Use at least {minimum} characters. A few unrelated words make a strong password."
    if len(password) > 256:
        return "Use at most 256 characters."
    return None


def create_user(
    *,
    session: Session,
    actor: Actor,
    email: str,
    full_name: str,
    organisation_id: int | None,
    roles: list[str],
    password: str | None,
    job_title: str = "",
    is_demo: bool = False,
) -> UserRead:
    """Open an account.  ``password=None`` makes an SSO-only account."""
    require(actor, Permission.ADMIN_USERS_WRITE, subject_type="user")
    errors: dict[str, str] = {}
    clean_email = normalise_email(email)
    try:
        clean_email = validate_email(clean_email, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        errors["email"] = "Enter a full email address, like name@agency.gov.uk."
    if "email" not in errors and session.exec(select(User).where(User.email == clean_email)).first():
        errors["email"] = "Someone already has an account with this email address."
    clean_name = " ".join(full_name.split())
    if not clean_name:
        errors["full_name"] = "Enter the person's full name."
    org = session.get(Organisation, organisation_id) if organisation_id else None
    if org is None:
        errors["organisation_id"] = "Choose the organisation this person works for."
    parsed_roles: list[Role] = []
    for value in roles:
        try:
            parsed_roles.append(Role(value))
        except ValueError:
            errors["roles"] = f"'{value}' is not a role the portal knows."
    if not parsed_roles and "roles" not in errors:
        errors["roles"] = "Choose at least one role."
    if password is not None and (problem := password_problem(password)):
        errors["password"] = problem
    if errors:
        raise InvalidInput(errors)
    assert org is not None
    user = User(
        organisation_id=org.id,  # type: ignore[arg-type]
        email=clean_email,
        full_name=clean_name,
        job_title=job_title.strip() or None,
        password_hash=hash_password(password) if password else None,
        is_demo=is_demo,
    )
    session.add(user)
    session.flush()
    assert user.id is not None
    for role in sorted(set(parsed_roles)):
        session.add(UserRole(user_id=user.id, role=role))
    session.flush()
    record_event(
        session,
        action=AuditAction.USER_CREATED,
        outcome=Outcome.SUCCESS,
        actor=actor,
        subject_type="user",
        subject_id=user.id,
        detail={"email": clean_email, "organisation_id": org.id, "roles": sorted(set(parsed_roles))},
    )
    return _user_read(session, user)


def _get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("That account no longer exists.")
    return user


def set_user_active(*, session: Session, actor: Actor, user_id: int, active: bool) -> UserRead:
    """Deactivate (ending every session at once) or reactivate an account."""
    require(actor, Permission.ADMIN_USERS_WRITE, subject_type="user", subject_id=user_id)
    user = _get_user(session, user_id)
    if not active and user.id == actor.user_id:
        raise InvalidInput({"user": "You cannot deactivate your own account."})
    user.is_active = active
    session.add(user)
    ended = 0 if active else end_all_sessions(session, user_id=user_id, reason="account_deactivated")
    record_event(
        session,
        action=AuditAction.USER_REACTIVATED if active else AuditAction.USER_DEACTIVATED,
        outcome=Outcome.SUCCESS,
        actor=actor,
        subject_type="user",
        subject_id=user_id,
        detail={"sessions_ended": ended},
    )
    return _user_read(session, user)


def reset_password(*, session: Session, actor: Actor, user_id: int, new_password: str) -> UserRead:
    """Set a new password, clear any lockout and end the person's sessions."""
    require(actor, Permission.ADMIN_USERS_WRITE, subject_type="user", subject_id=user_id)
    user = _get_user(session, user_id)
    if problem := password_problem(new_password):
        raise InvalidInput({"password": problem})
    user.password_hash = hash_password(new_password)
    user.failed_attempts = 0
    user.locked_until = None
    session.add(user)
    ended = end_all_sessions(session, user_id=user_id, reason="password_reset")
    record_event(
        session,
        action=AuditAction.PASSWORD_RESET,
        outcome=Outcome.SUCCESS,
        actor=actor,
        subject_type="user",
        subject_id=user_id,
        detail={"sessions_ended": ended},
    )
    return _user_read(session, user)


def reset_second_factor(*, session: Session, actor: Actor, user_id: int) -> UserRead:
    """Forget a person's authenticator (a lost phone): they set up a new one at next sign-in.
    Ends their sessions, since whoever holds the old device is no longer trusted."""
    require(actor, Permission.ADMIN_USERS_WRITE, subject_type="user", subject_id=user_id)
    user = _get_user(session, user_id)
    if not user.totp_enabled:
        raise InvalidInput({"user": "This person has no authenticator set up."})
    user.totp_enabled = False
    user.totp_secret_encrypted = None
    user.totp_last_step = None
    session.add(user)
    ended = end_all_sessions(session, user_id=user_id, reason="second_factor_reset")
    record_event(
        session,
        action=AuditAction.SECOND_FACTOR_RESET,
        outcome=Outcome.SUCCESS,
        actor=actor,
        subject_type="user",
        subject_id=user_id,
        detail={"sessions_ended": ended},
    )
    return _user_read(session, user)


def find_user_id(*, session: Session, email: str) -> int | None:
    """Lookup for the command line (run by an operator on the server)."""
    user = session.exec(select(User).where(User.email == normalise_email(email))).first()
    return user.id if user else None


def list_sso_organisations(*, session: Session) -> list[tuple[str, str]]:
    """(slug, name) of organisations whose people can sign in with their own provider.
    Public: the sign-in page shows a button for each."""
    from sharing.sso import effective_sso_settings

    orgs = session.exec(select(Organisation).where(col(Organisation.active).is_(True)).order_by(col(Organisation.name)))
    return [(o.slug, o.name) for o in orgs if effective_sso_settings(o) is not None]


def list_partner_names(*, session: Session, actor: Actor) -> list[tuple[int, str]]:
    """(id, name) of every active organisation, for choosing agreement parties."""
    require(actor, Permission.SHARING_AGREEMENTS_MANAGE, subject_type="organisation")
    orgs = session.exec(select(Organisation).where(col(Organisation.active).is_(True)).order_by(col(Organisation.name)))
    return [(o.id, o.name) for o in orgs if o.id is not None]

"""Single sign-on: which organisations offer it, and who an identity provider's answer is.

The OpenID Connect protocol itself (authorization code + PKCE, state, nonce, ID token
checks) is done with Authlib in the portal's HTTP routes; this module decides, from the
verified claims, which account signs in — or why nobody does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from sharing.accounts import issue_ticket, normalise_email
from sharing.audit import AuditAction, Outcome, record_event
from sharing.config import get_settings
from sharing.crypto import decrypt_secret
from sharing.errors import NotFound, SignInFailed
from sharing.models import ExternalIdentity, Organisation, Role, User, UserRole


@dataclass(frozen=True)
class SsoSettings:
    organisation_id: int
    slug: str
    name: str
    discovery_url: str
    client_id: str
    client_secret: str
    allow_provisioning: bool


def effective_sso_settings(org: Organisation) -> SsoSettings | None:
    """The identity provider for ``org``: the environment (``PORTAL_OIDC_CLIENTS``) wins over
    what the admin screen stored; None when the organisation has no SSO."""
    assert org.id is not None
    from_env = get_settings().oidc_clients.get(org.slug)
    if from_env is not None:
        return SsoSettings(
            organisation_id=org.id,
            slug=org.slug,
            name=org.name,
            discovery_url=from_env.discovery_url,
            client_id=from_env.client_id,
            client_secret=from_env.client_secret,
            allow_provisioning=from_env.allow_provisioning,
        )
    if not (org.active and org.sso_enabled and org.sso_discovery_url and org.sso_client_id):
        return None
    secret = decrypt_secret(org.sso_client_secret_encrypted) if org.sso_client_secret_encrypted else ""
    return SsoSettings(
        organisation_id=org.id,
        slug=org.slug,
        name=org.name,
        discovery_url=org.sso_discovery_url,
        client_id=org.sso_client_id,
        client_secret=secret,
        allow_provisioning=org.sso_allow_provisioning,
    )


def get_sso_settings(*, session: Session, slug: str) -> SsoSettings:
    org = session.exec(select(Organisation).where(Organisation.slug == slug)).first()
    settings = effective_sso_settings(org) if org is not None else None
    if settings is None:
        raise NotFound("Single sign-on is not set up for that organisation.")
    return settings


def _refusal(
    message: str, *, sso: SsoSettings, issuer: str, subject: str, email: str, reason: str, ip_address: str | None
) -> SignInFailed:
    def _audit(session: Session) -> None:
        record_event(
            session,
            action=AuditAction.SSO_SIGNIN_REFUSED,
            outcome=Outcome.FAILURE,
            actor_label=email or f"{issuer}#{subject}",
            subject_type="organisation",
            subject_id=sso.organisation_id,
            reason=reason,
            detail={"issuer": issuer, "subject": subject},
            ip_address=ip_address,
        )

    return SignInFailed(message, durable_effects=[_audit])


def sign_in_with_claims(
    *, session: Session, sso: SsoSettings, claims: dict[str, Any], ip_address: str | None = None
) -> str:
    """Match verified ID-token claims to an account and return a one-time sign-in ticket.

    Accounts are matched by issuer + subject.  The first time, a person is linked by a
    *verified* email belonging to the same organisation; a stranger is refused unless the
    organisation allows provisioning (then made a panel member).
    """
    issuer = str(claims.get("iss", ""))
    subject = str(claims.get("sub", ""))
    email = normalise_email(str(claims.get("email") or ""))
    email_verified = claims.get("email_verified") in (True, "true", "True", 1)
    if not issuer or not subject:
        raise _refusal(
            "Your organisation's sign-in service did not say who you are. Please try again.",
            sso=sso,
            issuer=issuer,
            subject=subject,
            email=email,
            reason="missing iss or sub",
            ip_address=ip_address,
        )
    link = session.exec(
        select(ExternalIdentity).where(ExternalIdentity.issuer == issuer, ExternalIdentity.subject == subject)
    ).first()
    user: User | None = session.get(User, link.user_id) if link else None
    if user is None:
        candidate = session.exec(select(User).where(User.email == email)).first() if email else None
        if candidate is not None and email_verified and candidate.organisation_id == sso.organisation_id:
            user = candidate
            assert user.id is not None
            session.add(ExternalIdentity(user_id=user.id, issuer=issuer, subject=subject))
            record_event(
                session,
                action=AuditAction.SSO_IDENTITY_LINKED,
                outcome=Outcome.SUCCESS,
                actor_label=email,
                subject_type="user",
                subject_id=user.id,
                detail={"issuer": issuer, "subject": subject},
                ip_address=ip_address,
            )
        elif candidate is None and sso.allow_provisioning and email and email_verified:
            name = str(claims.get("name") or email.split("@", 1)[0])
            user = User(organisation_id=sso.organisation_id, email=email, full_name=name)
            session.add(user)
            session.flush()
            assert user.id is not None
            session.add(UserRole(user_id=user.id, role=Role.PANEL_MEMBER))
            session.add(ExternalIdentity(user_id=user.id, issuer=issuer, subject=subject))
            record_event(
                session,
                action=AuditAction.SSO_USER_PROVISIONED,
                outcome=Outcome.SUCCESS,
                actor_label=email,
                subject_type="user",
                subject_id=user.id,
                detail={"issuer": issuer, "subject": subject, "roles": [str(Role.PANEL_MEMBER)]},
                ip_address=ip_address,
            )
        else:
            if candidate is not None and candidate.organisation_id != sso.organisation_id:
                reason = "email belongs to an account of another organisation"
            elif candidate is not None:
                reason = "email not verified by the identity provider"
            else:
                reason = "no account and provisioning not allowed"
            raise _refusal(
                f"You signed in with {sso.name}, but there is no portal account for "
                f"{email or 'you'}. Ask your portal administrator to create one.",
                sso=sso,
                issuer=issuer,
                subject=subject,
                email=email,
                reason=reason,
                ip_address=ip_address,
            )
    if not user.is_active:
        raise _refusal(
            "This account has been deactivated. Ask your portal administrator if you still need access.",
            sso=sso,
            issuer=issuer,
            subject=subject,
            email=email,
            reason="account deactivated",
            ip_address=ip_address,
        )
    if user.organisation_id != sso.organisation_id:
        raise _refusal(
            f"Your account does not belong to {sso.name}. Use your own organisation's sign-in.",
            sso=sso,
            issuer=issuer,
            subject=subject,
            email=email,
            reason="organisation mismatch",
            ip_address=ip_address,
        )
    session.flush()
    return issue_ticket(session, user=user, method="sso")

"""The sharing rules as pure functions over plain values, so they can be tested exhaustively
(Hypothesis) and reused by every service.  No database access here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays

from sharing.models import ConsentRecord, SharingAgreement
from sharing.vocabulary import LIVE_STATUSES, AgreementStatus, DataCategory, DisclosureStatus, Purpose


@dataclass(frozen=True)
class OrgRef:
    id: int
    name: str
    type: str


def agreement_is_in_force(agreement: SharingAgreement, today: date) -> bool:
    return agreement.status == AgreementStatus.ACTIVE and agreement.starts_on <= today <= agreement.ends_on


def agreement_gap(
    agreement: SharingAgreement,
    *,
    party_ids: frozenset[int],
    discloser_id: int,
    recipient_id: int,
    purpose: Purpose,
    categories: Iterable[DataCategory],
    today: date,
) -> DataCategory | str | None:
    """None when the agreement covers the share; otherwise what it lacks: "parties",
    "purpose", "in_force", or the first uncovered category."""
    if not agreement_is_in_force(agreement, today):
        return "in_force"
    if discloser_id not in party_ids or recipient_id not in party_ids:
        return "parties"
    if str(purpose) not in agreement.purposes:
        return "purpose"
    for category in sorted(categories):
        if str(category) not in agreement.categories:
            return category
        allowed = agreement.category_restrictions.get(str(category))
        if allowed is not None and (discloser_id not in allowed or recipient_id not in allowed):
            return category
    return None


def consent_is_valid(consent: ConsentRecord, today: date) -> bool:
    """Given, not yet expired, not withdrawn (withdrawal takes effect on its date)."""
    if consent.given_on > today:
        return False
    if consent.expires_on is not None and consent.expires_on < today:
        return False
    return not (consent.withdrawn_on is not None and consent.withdrawn_on <= today)


def consent_gap(
    consent: ConsentRecord,
    *,
    recipient: OrgRef,
    purpose: Purpose,
    categories: Iterable[DataCategory],
    today: date,
) -> DataCategory | str | None:
    """None when this consent covers the share; otherwise what it lacks."""
    if not consent_is_valid(consent, today):
        return "not_valid"
    if recipient.id not in consent.scope_organisation_ids and recipient.type not in consent.scope_organisation_types:
        return "recipient"
    if str(purpose) not in consent.scope_purposes:
        return "purpose"
    for category in sorted(categories):
        if str(category) not in consent.scope_categories:
            return category
    return None


def disclosure_is_live(status: str, consent: ConsentRecord | None, today: date) -> bool:
    """Whether a disclosure still gives its recipient access right now."""
    if status not in LIVE_STATUSES:
        return False
    return consent is None or consent_is_valid(consent, today)


def add_working_days(start: datetime, days: int, zone: ZoneInfo | None = None) -> datetime:
    """``days`` working days after ``start``, at the same time of day, skipping weekends and
    bank holidays in England and Wales.  Days are counted on the local calendar (``zone``, by
    default the portal's time zone): a share at 00:30 on a Friday in summer (23:30 on Thursday
    in UTC) is due on Monday, not on Saturday.  The result is in ``start``'s time zone."""
    if zone is None:
        from sharing.config import get_settings

        zone = ZoneInfo(get_settings().timezone)
    local = start.astimezone(zone)
    day = local.date()
    bank_holidays = holidays.country_holidays("GB", subdiv="ENG", years=range(day.year, day.year + 2))
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in bank_holidays:
            remaining -= 1
    due = datetime.combine(day, local.time(), tzinfo=zone)
    return due.astimezone(start.tzinfo)


__all__ = [
    "DisclosureStatus",
    "OrgRef",
    "add_working_days",
    "agreement_gap",
    "agreement_is_in_force",
    "consent_gap",
    "consent_is_valid",
    "disclosure_is_live",
]

"""``portal-admin``: the operator's command line.  Errors go to stderr with a non-zero exit."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sharing.config import ConfigError, get_settings
from sharing.errors import DomainError, InvalidInput


def _fail(message: str, code: int = 1) -> int:
    print(f"portal-admin: {message}", file=sys.stderr)
    return code


def cmd_check_config(args: argparse.Namespace) -> int:
    settings = get_settings()
    settings.resolved_secret_key()
    if not args.quiet:
        width = max(len(name) for name, _ in settings.describe())
        for name, value in settings.describe():
            print(f"{name.ljust(width)}  {value}")
        print("Configuration is valid.")
    return 0


def cmd_migrate(_args: argparse.Namespace) -> int:
    from sharing.migrations import upgrade_to_head

    upgrade_to_head()
    print("Database is up to date.")
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    from panels.demo import seed_demo
    from sharing.db import transaction

    settings = get_settings()
    if not settings.is_demo:
        if args.if_demo:
            return 0
        return _fail("demo mode is off (PORTAL_DEMO_MODE=false); refusing to add demo accounts.")
    with transaction() as session:
        added = seed_demo(session)
    if any(added.values()):
        print(
            f"Demo partnership added: {added['organisations']} organisations, "
            f"{added['users']} accounts, {added['panels']} panels"
            + (", and the demo's cases." if added.get("cases") else ".")
        )
    else:
        print("Demo partnership already present.")
    return 0


def cmd_banner(args: argparse.Namespace) -> int:
    from panels.demo import DEMO_ACCOUNTS, DEMO_PASSWORD

    settings = get_settings()
    print()
    print(f"  ASB Panel Portal is starting at {settings.public_url} (listening on port {args.port})")
    warning = settings.public_url_warning(args.port)
    if warning:
        print(f"  Warning: {warning}", file=sys.stderr)
    if settings.is_demo:
        print(f"  Demo sign-ins (password for all: {DEMO_PASSWORD}):")
        for account in DEMO_ACCOUNTS:
            print(f"    {account.email:<34} {account.organisation}")
    print()
    return 0


def _read_password(given: str | None) -> str:
    if given:
        return given
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Repeat it: ") != first:
        raise InvalidInput({"password": "The two passwords do not match."})
    return first


def cmd_create_user(args: argparse.Namespace) -> int:
    from sqlmodel import select

    from sharing.db import transaction
    from sharing.directory import create_user
    from sharing.models import Organisation
    from sharing.permissions import SYSTEM_ACTOR

    password = None if args.sso_only else _read_password(args.password)
    with transaction() as session:
        org = session.exec(
            select(Organisation).where(
                (Organisation.slug == args.organisation) | (Organisation.name == args.organisation)
            )
        ).first()
        if org is None:
            return _fail(f"no organisation called '{args.organisation}' (use its name or short name).")
        user = create_user(
            session=session,
            actor=SYSTEM_ACTOR,
            email=args.email,
            full_name=args.name,
            organisation_id=org.id,
            roles=args.role,
            password=password,
        )
    print(f"Created {user.email} ({user.organisation_name}).")
    return 0


def cmd_reset_password(args: argparse.Namespace) -> int:
    from sharing.db import transaction
    from sharing.directory import find_user_id, reset_password
    from sharing.permissions import SYSTEM_ACTOR

    password = _read_password(args.password)
    with transaction() as session:
        user_id = find_user_id(session=session, email=args.email)
        if user_id is None:
            return _fail(f"no account with the email {args.email}.")
        reset_password(session=session, actor=SYSTEM_ACTOR, user_id=user_id, new_password=password)
    print(f"Password reset for {args.email}; the account is unlocked and its sessions have ended.")
    return 0


def cmd_verify_audit(_args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from sharing.audit import verify_chain
    from sharing.db import get_engine

    with Session(get_engine()) as session:
        report = verify_chain(session)
    if not report.ok:
        if report.first_bad_event_id is None:
            return _fail(f"Audit trail broken after {report.checked} intact events: {report.problem}.")
        return _fail(f"Audit trail broken at event {report.first_bad_event_id}: {report.problem}.")
    print(f"Audit trail intact: {report.checked} event{'' if report.checked == 1 else 's'} checked.")
    return 0


def cmd_sar_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from sharing.db import transaction
    from sharing.errors import NotFound
    from sharing.permissions import SYSTEM_ACTOR
    from sharing.sar import build_sar_export

    output = Path(args.output or f"subject-access-{args.person_id}.zip")
    try:
        # Written inside the transaction: if the file cannot be written, the export is not
        # logged as having happened.
        with transaction() as session:
            content = build_sar_export(session=session, actor=SYSTEM_ACTOR, person_id=args.person_id)
            output.write_bytes(content)
    except NotFound:
        return _fail(f"no person with the id {args.person_id}.")
    except OSError as error:
        return _fail(f"could not write {output}: {error.strerror or error}.")
    print(f"Subject access export for person {args.person_id} written to {output} ({len(content)} bytes).")
    return 0


def cmd_flag_expired_consent(_args: argparse.Namespace) -> int:
    from sharing.db import transaction, utcnow
    from sharing.permissions import SYSTEM_ACTOR
    from sharing.register import flag_expired_consent

    with transaction() as session:
        flagged = flag_expired_consent(session=session, actor=SYSTEM_ACTOR, today=utcnow().date())
    print(f"{len(flagged)} disclosure(s) resting on expired consent flagged for review.")
    return 0


def _organisation_id(session: Any, name: str) -> int:
    from sqlmodel import select

    from sharing.models import Organisation

    org = session.exec(select(Organisation).where((Organisation.name == name) | (Organisation.slug == name))).first()
    if org is None or org.id is None:
        raise SystemExit(f"portal-admin: no organisation called {name!r}")
    return int(org.id)


def cmd_show_policy(args: argparse.Namespace) -> int:
    """Print an organisation's case-work policy numbers as JSON (the defaults if it has none)."""
    import json

    from panels.policy import get_case_policy
    from sharing.db import transaction

    with transaction() as session:
        policy = get_case_policy(session, _organisation_id(session, args.organisation))
    print(json.dumps(policy.model_dump(mode="json"), indent=2))
    return 0


def cmd_set_policy(args: argparse.Namespace) -> int:
    """Replace an organisation's policy numbers from a JSON file (as ``show-policy`` prints)."""
    import json

    from panels.policy import set_case_policy
    from sharing.db import transaction
    from sharing.permissions import SYSTEM_ACTOR

    try:
        data = json.loads(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"portal-admin: cannot read {args.file}: {error}", file=sys.stderr)
        return 2
    try:
        with transaction() as session:
            policy = set_case_policy(
                session=session, actor=SYSTEM_ACTOR, organisation_id=_organisation_id(session, args.organisation),
                policy=data,
            )  # fmt: skip
    except InvalidInput as error:
        print(f"portal-admin: {next(iter(error.field_errors.values()))}", file=sys.stderr)
        return 1
    print(f"Policy saved: risk scheme {policy.risk_scheme.name}; case review {policy.case_review.name}.")
    return 0


def cmd_scheduler(_args: argparse.Namespace) -> int:
    import signal
    import threading

    from panels.scheduler import start_scheduler

    handle = start_scheduler()
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    print(
        f"Scheduler started ({handle.holder_id}). It runs the scheduled jobs whenever it holds the lock; "
        "stop it with Ctrl+C."
    )
    stopped.wait()
    handle.stop()
    print("Scheduler stopped.")
    return 0


def cmd_run_job(args: argparse.Namespace) -> int:
    from panels.scheduler import JOBS, run_job

    if args.job_id not in JOBS:
        return _fail(f"no job called '{args.job_id}' (one of: {', '.join(sorted(JOBS))}).")
    run = run_job(args.job_id)
    if run is None:
        print(f"{args.job_id}: this period's run has already completed; nothing to do.")
        return 0
    counts = ", ".join(f"{name} {value}" for name, value in sorted(run.result.items()) if value) or "nothing to do"
    if run.outcome == "failed":
        return _fail(f"{args.job_id} failed: {run.error}")
    print(f"{args.job_id}: {run.outcome_label.lower()} ({counts}).")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portal-admin", description="Administer the ASB Panel Portal.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check-config", help="validate PORTAL_* settings and show them (secrets hidden)")
    p.add_argument("--quiet", action="store_true", help="only report problems")
    p.set_defaults(func=cmd_check_config)

    p = sub.add_parser("migrate", help="apply database migrations")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("seed-demo", help="add the fictional demo partnership (idempotent)")
    p.add_argument("--if-demo", action="store_true", help="do nothing unless demo mode is on")
    p.set_defaults(func=cmd_seed_demo)

    p = sub.add_parser("banner", help="print the address and demo sign-ins")
    p.add_argument("--port", type=int, default=3000)
    p.set_defaults(func=cmd_banner)

    p = sub.add_parser("create-user", help="create an account")
    p.add_argument("--email", required=True)
    p.add_argument("--name", required=True, help="full name")
    p.add_argument("--organisation", required=True, help="organisation name or short name")
    p.add_argument(
        "--role",
        action="append",
        required=True,
        choices=["administrator", "lead_officer", "panel_member", "information_sharing_officer"],
        help="repeat for several roles",
    )
    p.add_argument("--password", help="initial password (otherwise asked for, or read from stdin)")
    p.add_argument("--sso-only", action="store_true", help="no password: signs in only with their organisation")
    p.set_defaults(func=cmd_create_user)

    p = sub.add_parser("reset-password", help="set a new password, unlock the account, end its sessions")
    p.add_argument("--email", required=True)
    p.add_argument("--password", help="new password (otherwise asked for, or read from stdin)")
    p.set_defaults(func=cmd_reset_password)

    p = sub.add_parser("verify-audit", help="check that no audit event was changed or removed (exit 1 if one was)")
    p.set_defaults(func=cmd_verify_audit)

    p = sub.add_parser("sar-export", help="write everything held about a person (JSON and PDF in a ZIP)")
    p.add_argument("person_id", type=int, metavar="PERSON_ID")
    p.add_argument("--output", help="where to write the ZIP (default ./subject-access-<id>.zip)")
    p.set_defaults(func=cmd_sar_export)
    p = sub.add_parser("flag-expired-consent", help="flag disclosures resting on expired consent and tell recipients")
    p.set_defaults(func=cmd_flag_expired_consent)

    p = sub.add_parser(
        "scheduler",
        help="run reminders, digests and email sending in the foreground (one process at a time runs them)",
    )
    p.set_defaults(func=cmd_scheduler)

    p = sub.add_parser("show-policy", help="print an organisation's case-work policy numbers (JSON)")
    p.add_argument("organisation", help="organisation name or short name")
    p.set_defaults(func=cmd_show_policy)

    p = sub.add_parser("set-policy", help="replace an organisation's case-work policy numbers from a JSON file")
    p.add_argument("organisation", help="organisation name or short name")
    p.add_argument("file", help="JSON as show-policy prints it")
    p.set_defaults(func=cmd_set_policy)

    p = sub.add_parser("run-job", help="run one scheduled job now (once per period, like the scheduler)")
    p.add_argument("job_id", metavar="JOB", help="reminders_sweep, email_outbox, notification_digest, manager_digest")
    p.set_defaults(func=cmd_run_job)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    except InvalidInput as error:
        details = "; ".join(f"{field}: {message}" for field, message in error.field_errors.items())
        return _fail(details or error.message)
    except DomainError as error:
        return _fail(error.message)


if __name__ == "__main__":
    sys.exit(main())

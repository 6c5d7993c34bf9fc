"""``portal-admin``: what operators run on the server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from portal.cli import main
from sharing.accounts import verify_password
from sharing.models import AuditEvent, User, UserRole
from tests.conftest import unique

ROOT = Path(__file__).resolve().parents[2]


def test_create_user_makes_an_account_with_its_roles(engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    email = f"{unique('cli')}@example.com"
    code = main(
        [
            "create-user",
            "--email", email,
            "--name", "Jo Smith",
            "--organisation", "Eastshire Police",
            "--role", "panel_member",
            "--role", "lead_officer",
            "--password", "a long enough password",
        ]
    )  # fmt: skip
    assert code == 0
    assert email in capsys.readouterr().out
    with Session(engine) as session:
        user = session.exec(select(User).where(User.email == email)).one()
        roles = set(session.exec(select(UserRole.role).where(UserRole.user_id == user.id)).all())
        assert verify_password(user.password_hash, "a long enough password")
        created = session.exec(
            select(AuditEvent).where(AuditEvent.action == "admin:user:created", AuditEvent.subject_id == str(user.id))
        ).one()
    assert roles == {"panel_member", "lead_officer"}
    assert created.actor_label == "system"


def test_errors_go_to_stderr_with_a_non_zero_exit(engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["reset-password", "--email", "nobody-here@example.com", "--password", "whatever long enough"])
    captured = capsys.readouterr()
    assert code != 0
    assert "no account with the email nobody-here@example.com" in captured.err
    assert captured.out == ""

    code = main(
        ["create-user", "--email", "not-an-email", "--name", "X", "--organisation", "Eastshire Police",
         "--role", "panel_member", "--password", "short"]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code != 0
    assert "email: Enter a full email address" in captured.err
    assert "password: Use at least" in captured.err

    code = main(
        ["create-user", "--email", f"{unique('x')}@example.com", "--name", "X", "--organisation", "No Such Agency",
         "--role", "panel_member", "--password", "long enough password"]
    )  # fmt: skip
    assert code != 0
    assert "no organisation called 'No Such Agency'" in capsys.readouterr().err


def test_reset_password_reads_standard_input_and_unlocks(engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    email = f"{unique('cli')}@example.com"
    assert (
        main(["create-user", "--email", email, "--name", "Lee", "--organisation", "Riverside Homes",
              "--role", "lead_officer", "--password", "first password here"])
        == 0
    )  # fmt: skip
    capsys.readouterr()
    with Session(engine) as session:
        user = session.exec(select(User).where(User.email == email)).one()
        user.failed_attempts = 3
        session.add(user)
        session.commit()
    import io

    sys_stdin = sys.stdin
    try:
        sys.stdin = io.StringIO("second password here\n")
        assert main(["reset-password", "--email", email]) == 0
    finally:
        sys.stdin = sys_stdin
    with Session(engine) as session:
        user = session.exec(select(User).where(User.email == email)).one()
    assert verify_password(user.password_hash, "second password here")
    assert user.failed_attempts == 0


def test_a_bad_setting_stops_the_command_naming_the_variable(tmp_path: Path) -> None:
    env = dict(os.environ, PORTAL_SESSION_IDLE_MINUTES="half an hour", PORTAL_DATA_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "portal.cli", "check-config"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "PORTAL_SESSION_IDLE_MINUTES" in result.stderr
    assert result.stdout == ""


def test_check_config_hides_secrets(tmp_path: Path) -> None:
    env = dict(os.environ, PORTAL_DATA_DIR=str(tmp_path), PORTAL_SMTP_PASSWORD="hunter2-very-secret")
    result = subprocess.run(
        [sys.executable, "-m", "portal.cli", "check-config"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "PORTAL_SESSION_IDLE_MINUTES" in result.stdout
    assert os.environ["PORTAL_SECRET_KEY"] not in result.stdout
    assert "hunter2-very-secret" not in result.stdout
    assert "Configuration is valid." in result.stdout


def test_seed_demo_refuses_without_demo_mode(tmp_path: Path) -> None:
    env = dict(os.environ, PORTAL_DEMO_MODE="false", PORTAL_DATA_DIR=str(tmp_path))
    refused = subprocess.run(
        [sys.executable, "-m", "portal.cli", "seed-demo"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert refused.returncode == 1
    assert "demo mode is off" in refused.stderr
    quiet = subprocess.run(
        [sys.executable, "-m", "portal.cli", "seed-demo", "--if-demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert quiet.returncode == 0


def test_policy_numbers_are_shown_and_replaced_without_code(
    engine: Engine, capsys: pytest.CaptureFixture[str], tmp_path: Path, make_organisation: Any
) -> None:
    import json

    from panels.policy import get_case_policy
    from sharing.models import Organisation

    org_id = make_organisation()
    with Session(engine) as session:
        org = session.get(Organisation, org_id)
        assert org is not None
        name = org.name
    assert main(["show-policy", name]) == 0
    policy = json.loads(capsys.readouterr().out)
    assert policy["risk_scheme"]["key"] == "cambridge"
    assert [level["min_score"] for level in policy["risk_scheme"]["levels"]] == [32, 20, 0]
    policy["risk_scheme"]["levels"][0]["min_score"] = 30  # this council's High starts at 30
    policy["clocks"]["nosp_valid_months"] = 13
    changed = tmp_path / "policy.json"
    changed.write_text(json.dumps(policy))
    assert main(["set-policy", name, str(changed)]) == 0
    with Session(engine) as session:
        saved = get_case_policy(session, org_id)
    assert saved.risk_scheme.levels[0].min_score == 30 and saved.clocks.nosp_valid_months == 13

    policy["risk_scheme"]["levels"][-1]["min_score"] = 5  # nothing would start at zero
    changed.write_text(json.dumps(policy))
    assert main(["set-policy", name, str(changed)]) == 1
    assert "lowest level must start at a score of 0" in capsys.readouterr().err


def _banner(tmp_path: Path, port: int, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PORTAL_PUBLIC_URL", "PORTAL_PORT")}
    env.update(PORTAL_DATA_DIR=str(tmp_path), **settings)
    return subprocess.run(
        [sys.executable, "-m", "portal.cli", "banner", "--port", str(port)],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip


def test_the_start_up_banner_gives_the_address_of_the_port_it_starts_on(tmp_path: Path) -> None:
    result = _banner(tmp_path, 8080, PORTAL_PORT="8080")
    assert result.returncode == 0, result.stderr
    assert "starting at http://localhost:8080 (listening on port 8080)" in result.stdout
    assert result.stderr == ""


def test_the_start_up_banner_says_when_the_public_address_points_at_another_port(tmp_path: Path) -> None:
    result = _banner(tmp_path, 3100, PORTAL_PORT="3100", PORTAL_PUBLIC_URL="http://localhost:3000")
    assert result.returncode == 0
    assert "PORTAL_PUBLIC_URL is http://localhost:3000, but the portal listens on port 3100" in result.stderr
    # Behind a reverse proxy the public address is another host's, and that is as it should be.
    proxied = _banner(tmp_path, 3100, PORTAL_PORT="3100", PORTAL_PUBLIC_URL="https://asb.eastbrook.example")
    assert proxied.returncode == 0 and proxied.stderr == ""
    assert "starting at https://asb.eastbrook.example (listening on port 3100)" in proxied.stdout

"""Settings from ``PORTAL_*`` variables: clear errors naming the variable, derived defaults,
and the secret key generated once into the data folder."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from sharing.config import ConfigError, Settings, load_settings

SQLITE = "sqlite:///some/where/portal.db"
POSTGRES = "postgresql+psycopg://portal:pw@db.internal:5432/portal"


def _load(**overrides: Any) -> Settings:
    """Settings from the environment plus ``overrides``, ignoring any ``.env`` file."""
    return load_settings(_env_file=None, **overrides)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No PORTAL_* variables other than the ones a test sets itself."""
    for name in list(os.environ):
        if name.startswith("PORTAL_"):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.mark.parametrize(
    ("field", "value", "variable"),
    [
        ("session_idle_minutes", "abc", "PORTAL_SESSION_IDLE_MINUTES"),
        ("session_idle_minutes", 0, "PORTAL_SESSION_IDLE_MINUTES"),
        ("lockout_threshold", 1000, "PORTAL_LOCKOUT_THRESHOLD"),
        ("password_min_length", 4, "PORTAL_PASSWORD_MIN_LENGTH"),
        ("database_url", "mysql://x", "PORTAL_DATABASE_URL"),
        ("redis_url", "http://x", "PORTAL_REDIS_URL"),
        ("public_url", "portal.example.com", "PORTAL_PUBLIC_URL"),
        ("timezone", "Mars/Base", "PORTAL_TIMEZONE"),
        ("smtp_port", 70000, "PORTAL_SMTP_PORT"),
        ("secret_key", "too-short", "PORTAL_SECRET_KEY"),
    ],
)
def test_a_bad_value_names_the_variable(field: str, value: Any, variable: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(**{field: value})
    message = str(caught.value)
    assert message.startswith("Configuration problem:")
    assert f"{variable}: " in message
    assert message.count("PORTAL_") == 1


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("PORTAL_SESSION_IDLE_MINUTES", "abc", "valid integer"),
        ("PORTAL_DATABASE_URL", "mysql://x", "sqlite:/// or postgresql"),
        ("PORTAL_REDIS_URL", "http://x", "redis://"),
        ("PORTAL_TIMEZONE", "Mars/Base", "time zone"),
        ("PORTAL_DEMO_MODE", "perhaps", "boolean"),
    ],
)
def test_a_bad_environment_variable_is_explained(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        _load()
    message = str(caught.value)
    assert f"{variable}: " in message
    assert expected in message
    assert repr(value) in message


def test_every_bad_variable_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        _load(session_idle_minutes="abc", redis_url="http://x", timezone="Mars/Base")
    message = str(caught.value)
    for variable in ("PORTAL_SESSION_IDLE_MINUTES", "PORTAL_REDIS_URL", "PORTAL_TIMEZONE"):
        assert variable in message


def test_a_short_secret_key_is_not_repeated_in_the_message() -> None:
    with pytest.raises(ConfigError) as caught:
        _load(secret_key="hunter2-is-my-secret")
    assert "PORTAL_SECRET_KEY" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_a_password_in_a_bad_url_is_masked() -> None:
    with pytest.raises(ConfigError) as caught:
        _load(database_url="mysql://portal:topsecretpw@db/portal")
    message = str(caught.value)
    assert "PORTAL_DATABASE_URL" in message
    assert "topsecretpw" not in message
    assert "mysql://portal:***@db/portal" in message


def test_a_bad_identity_provider_names_the_variable_and_hides_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "PORTAL_OIDC_CLIENTS",
        '{"eastshire-police": {"discovery_url": "ftp://idp", "client_id": "c", "client_secret": 424242}}',
    )
    with pytest.raises(ConfigError) as caught:
        _load()
    message = str(caught.value)
    assert "PORTAL_OIDC_CLIENTS: eastshire-police.discovery_url" in message
    assert "eastshire-police.client_secret" in message
    assert "424242" not in message


def test_identity_providers_can_be_given_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "PORTAL_OIDC_CLIENTS",
        '{"eastshire-police": {"discovery_url": "https://idp/.well-known/openid-configuration", "client_id": "c"}}',
    )
    settings = _load()
    client = settings.oidc_clients["eastshire-police"]
    assert client.client_id == "c"
    assert client.client_secret == ""
    assert client.allow_provisioning is False


@pytest.mark.parametrize(
    ("url", "demo"),
    [
        (SQLITE, True),
        ("sqlite:///:memory:", True),
        (POSTGRES, False),
        ("postgresql://portal@db/portal", False),
    ],
)
def test_demo_mode_defaults_to_the_embedded_database(clean_env: pytest.MonkeyPatch, url: str, demo: bool) -> None:
    settings = _load(database_url=url)
    assert settings.demo_mode is demo
    assert settings.is_demo is demo
    assert settings.uses_embedded_database is demo


def test_demo_mode_can_be_set_either_way(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("PORTAL_DEMO_MODE", "false")
    assert _load(database_url=SQLITE).is_demo is False
    clean_env.setenv("PORTAL_DEMO_MODE", "true")
    assert _load(database_url=POSTGRES).is_demo is True


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_plain_postgresql_urls_use_psycopg_3(clean_env: pytest.MonkeyPatch, scheme: str) -> None:
    assert _load(database_url=f"{scheme}://u@h/db").database_url == "postgresql+psycopg://u@h/db"


def test_defaults(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = _load(data_dir=tmp_path)
    assert settings.database_url == f"sqlite:///{(tmp_path / 'portal.db').as_posix()}"
    assert settings.is_demo is True
    assert settings.redis_url is None
    assert settings.session_idle_minutes == 30
    assert settings.lockout_threshold == 5
    assert settings.lockout_minutes == 15
    assert settings.password_min_length == 12
    assert settings.timezone == "Europe/London"
    assert settings.cookies_secure is False


def test_urls_are_tidied(clean_env: pytest.MonkeyPatch) -> None:
    settings = _load(database_url=SQLITE, public_url="https://portal.example.com/", redis_url="")
    assert settings.public_url == "https://portal.example.com"
    assert settings.cookies_secure is True
    assert settings.redis_url is None
    assert _load(database_url=SQLITE, redis_url="rediss://cache:6380/0").redis_url == "rediss://cache:6380/0"


def test_the_secret_key_is_generated_once_and_kept_private(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    data_dir = tmp_path / "new-data-folder"
    settings = _load(data_dir=data_dir, database_url=SQLITE)
    assert settings.secret_key == ""
    assert not settings.secret_key_file.exists()

    key = settings.resolved_secret_key()
    path = data_dir / "secret_key"
    assert settings.secret_key_file == path
    assert path.read_text(encoding="utf-8") == key
    assert len(key) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    assert settings.resolved_secret_key() == key
    assert _load(data_dir=data_dir, database_url=SQLITE).resolved_secret_key() == key
    assert _load(data_dir=tmp_path / "elsewhere", database_url=SQLITE).resolved_secret_key() != key


def test_a_configured_secret_key_wins_and_writes_no_file(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    configured = "k" * 40
    settings = _load(data_dir=tmp_path, database_url=SQLITE, secret_key=configured)
    assert settings.resolved_secret_key() == configured
    assert not (tmp_path / "secret_key").exists()


def test_describe_masks_secrets(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = _load(
        data_dir=tmp_path,
        database_url=POSTGRES,
        secret_key="s" * 40,
        smtp_password="mail-password",
    )
    shown = dict(settings.describe())
    assert shown["PORTAL_SECRET_KEY"] == "(set)"
    assert shown["PORTAL_SMTP_PASSWORD"] == "(set)"
    assert shown["PORTAL_DATABASE_URL"] == "postgresql+psycopg://portal:***@db.internal:5432/portal"
    assert shown["PORTAL_REDIS_URL"] == "(unset)"
    assert "s" * 40 not in str(shown)
    assert "mail-password" not in str(shown)
    assert set(shown) == {"PORTAL_" + name.upper() for name in Settings.model_fields}


def test_a_dotenv_file_is_read(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PORTAL_TIMEZONE=Mars/Base\n", encoding="utf-8")
    clean_env.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "PORTAL_TIMEZONE" in str(caught.value)
    (tmp_path / ".env").write_text("PORTAL_TIMEZONE=America/New_York\n", encoding="utf-8")
    assert load_settings().timezone == "America/New_York"


def test_the_public_address_follows_the_port_unless_it_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PORTAL_PUBLIC_URL", "PORTAL_PORT", "REFLEX_BACKEND_PORT", "REFLEX_FRONTEND_PORT"):
        monkeypatch.delenv(name, raising=False)
    default = _load(database_url=SQLITE)
    assert default.public_url == "http://localhost:3000" and not default.public_url_is_fixed
    on_port = _load(database_url=SQLITE, port=8080)
    assert on_port.public_url == "http://localhost:8080" and on_port.public_url_is_fixed
    assert on_port.public_url_warning() is None
    # `reflex run --backend-port 8090` tells the processes it starts their port.
    monkeypatch.setenv("REFLEX_BACKEND_PORT", "8090")
    assert _load(database_url=SQLITE).public_url == "http://localhost:8090"
    given = _load(database_url=SQLITE, public_url="http://localhost:3000", port=3100)
    assert given.public_url == "http://localhost:3000" and given.public_url_is_fixed
    warning = given.public_url_warning()
    assert warning is not None and "listens on port 3100" in warning and "http://localhost:3100" in warning
    assert _load(database_url=SQLITE, public_url="http://127.0.0.1:3100", port=3100).public_url_warning() is None
    assert _load(database_url=SQLITE, public_url="https://asb.example.gov.uk", port=3100).public_url_warning() is None

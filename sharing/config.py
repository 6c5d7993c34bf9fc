"""Portal settings, read from ``PORTAL_*`` environment variables or a ``.env`` file.

Every setting has a safe default for the embedded deployment (SQLite under ``data/``,
in-process scheduler, demo data).  A bad value stops start-up with a message that names
the variable and says what is wrong (see :func:`load_settings`).
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, PrivateAttr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "PORTAL_"


class ConfigError(Exception):
    """A setting is missing or wrong; the message names the variable."""


class OidcClientSettings(BaseModel):
    """An organisation's identity provider, given in the environment instead of the admin screen."""

    discovery_url: str
    client_id: str
    client_secret: str = ""
    allow_provisioning: bool = False

    @field_validator("discovery_url")
    @classmethod
    def _discovery_is_http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("the discovery URL must start with http:// or https://")
        return value


class Settings(BaseSettings):
    """All configuration of the portal.  Policy numbers for cases and panels live in the
    database per organisation; these are deployment settings."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    data_dir: Path = Field(
        default=PROJECT_ROOT / "data",
        description="Folder for the embedded database, the generated secret key and uploads.",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL of the database. Empty means the embedded SQLite file data/portal.db.",
    )
    redis_url: str | None = Field(
        default=None,
        description="Optional Redis URL; when set, Reflex keeps state in Redis and runs several workers.",
    )
    secret_key: str = Field(
        default="",
        description=(
            "Key for signing and encrypting secrets. Empty means generate one into data/secret_key on first run."
        ),
    )
    public_url: str = Field(
        default="",
        description=(
            "Address people use to reach the portal (used for SSO redirects and links in emails). "
            "Empty means http://localhost:<port the portal listens on>."
        ),
    )
    # Whether PORTAL_PUBLIC_URL was given (otherwise the address follows the port).
    _public_url_given: bool = PrivateAttr(default=False)
    _port_given: bool = PrivateAttr(default=False)
    port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Port the portal listens on (`make run PORT=8080` sets it). Empty means the port Reflex was given.",
    )
    session_idle_minutes: int = Field(
        default=30, gt=0, le=24 * 60, description="Sign a person out after this many minutes without activity."
    )
    lockout_threshold: int = Field(
        default=5, gt=0, le=100, description="Failed sign-in attempts before an account is locked."
    )
    lockout_minutes: int = Field(default=15, gt=0, le=24 * 60, description="How long a locked account stays locked.")
    password_min_length: int = Field(
        default=12, ge=8, le=128, description="Shortest password an administrator may set."
    )
    timezone: str = Field(default="Europe/London", description="Time zone for times shown to people.")
    disclosure_justification_min_chars: int = Field(
        default=40, ge=1, le=2000, description="Shortest justification for sharing without consent."
    )
    emergency_review_working_days: int = Field(
        default=1, ge=1, le=20, description="Working days within which an emergency share must be reviewed."
    )
    disclosure_retention_years: int = Field(
        default=6, ge=1, le=100, description="Default years a recipient may keep what was disclosed."
    )
    agreement_warning_days: int = Field(
        default=30, ge=1, le=365, description="Show agreements this many days before they end or are due for review."
    )
    sar_due_months: int = Field(
        default=1, ge=1, le=3, description="Calendar months after receipt by which a subject access request is due."
    )
    sar_max_extension_months: int = Field(
        default=2, ge=0, le=6, description="Most calendar months a subject access request's deadline may be extended."
    )
    retention_default_years: int = Field(
        default=6, ge=1, le=100, description="Years after a case closes to keep information whose category has no rule."
    )
    meeting_reminder_working_days: int = Field(
        default=1, ge=0, le=10, description="Remind a panel's people this many working days before it meets (0: never)."
    )
    panel_form_people_listed: int = Field(
        default=200,
        ge=1,
        le=5000,
        description="People the panel set-up form lists before asking to find the rest by name.",
    )
    evidence_max_mb: int = Field(
        default=20, ge=1, le=500, description="Largest evidence file (photo, recording or letter) in megabytes."
    )
    demo_mode: bool | None = Field(
        default=None,
        description="Seed and show the fictional demo partnership. Default: on only with the embedded database.",
    )
    smtp_host: str | None = Field(default=None, description="SMTP server for email; unset keeps email in the outbox.")
    smtp_port: int = Field(default=25, gt=0, lt=65536, description="SMTP port.")
    smtp_username: str | None = Field(default=None, description="SMTP user name, if the server needs one.")
    smtp_password: str | None = Field(default=None, description="SMTP password, if the server needs one.")
    smtp_starttls: bool = Field(default=False, description="Use STARTTLS with the SMTP server.")
    smtp_from: str = Field(default="ASB Panel Portal <no-reply@portal.invalid>", description="Sender of emails.")
    email_max_attempts: int = Field(
        default=5, ge=1, le=50, description="Attempts to send an email before it is marked failed (kept in the outbox)."
    )
    scheduler_enabled: bool = Field(
        default=True,
        description=(
            "Run reminders, digests and email sending inside the portal. Across several workers or processes only "
            "one runs them at a time; 'portal-admin scheduler' runs them in a process of its own."
        ),
    )
    scheduler_lock_name: str = Field(
        default="portal-scheduler",
        min_length=1,
        max_length=80,
        description="Name of the lock that decides which process runs the scheduled jobs.",
    )
    scheduler_lease_seconds: int = Field(
        default=30,
        ge=3,
        le=600,
        description="Seconds without a heartbeat after which another process takes over the scheduled jobs.",
    )
    reminder_sweep_minutes: int = Field(
        default=15, ge=1, le=60, description="Minutes between reminder sweeps (must divide 60)."
    )
    digest_hour: int = Field(
        default=7, ge=0, le=23, description="Hour of the day (portal time zone) the daily and weekly digests go out."
    )
    sar_reminder_days: int = Field(
        default=7, ge=1, le=30, description="Remind about a subject access request this many days before it is due."
    )
    oidc_clients: dict[str, OidcClientSettings] = Field(
        default_factory=dict,
        description=(
            "JSON object of identity providers by organisation slug, e.g. "
            '{"eastshire-police": {"discovery_url": "...", "client_id": "...", "client_secret": "..."}}. '
            "Overrides what the admin screen stores."
        ),
    )

    @field_validator("database_url")
    @classmethod
    def _database_url_shape(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql", "postgres://")):
            raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            # psycopg 3 is the driver we ship; the bare scheme would look for psycopg2.
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @field_validator("reminder_sweep_minutes")
    @classmethod
    def _sweep_divides_the_hour(cls, value: int) -> int:
        if 60 % value:
            raise ValueError("must divide 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60)")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url_shape(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis:// or rediss://")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url_shape(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("is not a known time zone name, e.g. Europe/London") from None
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret_strength(cls, value: str) -> str:
        if value and len(value) < 32:
            raise ValueError("must be at least 32 characters long (or leave it unset to generate one)")
        return value

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'portal.db').as_posix()}"
        if self.demo_mode is None:
            self.demo_mode = self.uses_embedded_database
        self._port_given = self.port is not None
        if self.port is None:
            self.port = _reflex_port()
        self._public_url_given = bool(self.public_url)
        if not self.public_url:
            self.public_url = f"http://localhost:{self.port}"
        return self

    def public_url_warning(self, port: int | None = None) -> str | None:
        """What to tell whoever starts the portal when the public address points somewhere
        else on this machine than the port it listens on (the browser would send its events,
        and its sign-in, to another port), or ``None``.  A public address on another host is
        a reverse proxy's and is left alone."""
        listening = port or self.port
        if not self._public_url_given or listening is None:
            return None
        parts = urlsplit(self.public_url)
        if parts.hostname not in LOOPBACK_HOSTS:
            return None
        public_port = parts.port or (443 if parts.scheme == "https" else 80)
        if public_port == listening:
            return None
        return (
            f"PORTAL_PUBLIC_URL is {self.public_url}, but the portal listens on port {listening}: browsers "
            f"will send sign-ins and events to port {public_port}. Unset PORTAL_PUBLIC_URL (it then follows the "
            f"port) or set it to http://localhost:{listening}."
        )

    @property
    def uses_embedded_database(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_demo(self) -> bool:
        return bool(self.demo_mode)

    @property
    def public_url_is_fixed(self) -> bool:
        """The public address was set, or follows a port that was (``PORTAL_PORT``); otherwise
        it follows the port Reflex is started on."""
        return self._public_url_given or self._port_given

    @property
    def cookies_secure(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def secret_key_file(self) -> Path:
        return self.data_dir / "secret_key"

    def resolved_secret_key(self) -> str:
        """The configured secret key, or the one generated into the data folder on first use."""
        if self.secret_key:
            return self.secret_key
        path = self.secret_key_file
        if path.exists():
            return path.read_text(encoding="utf-8").strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        # Create with owner-only permissions; never overwrite one another process wrote.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(key)
        return key

    def describe(self) -> list[tuple[str, str]]:
        """Effective settings for ``portal-admin check-config``, secrets masked."""
        hidden = {"secret_key", "smtp_password"}
        rows: list[tuple[str, str]] = []
        for name in type(self).model_fields:
            value: Any = getattr(self, name)
            if name in hidden:
                shown = "(set)" if value else "(generated in data folder)" if name == "secret_key" else "(unset)"
            elif name == "oidc_clients":
                shown = ", ".join(sorted(value)) or "(none)"
            elif name == "database_url":
                shown = _mask_url_password(str(value))
            else:
                shown = "(unset)" if value is None else str(value)
            rows.append((ENV_PREFIX + name.upper(), shown))
        return rows


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
DEFAULT_PORT = 3000


def _reflex_port() -> int:
    """The port Reflex was told to listen on: ``reflex run --backend-port/--frontend-port`` puts
    it in the environment of the processes it starts."""
    for name in ("REFLEX_BACKEND_PORT", "REFLEX_FRONTEND_PORT"):
        value = os.environ.get(name, "").strip()
        if value.isdigit():
            return int(value)
    return DEFAULT_PORT


def _mask_url_password(url: str) -> str:
    if "://" not in url or "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    if ":" in creds:
        creds = creds.split(":", 1)[0] + ":***"
    return f"{scheme}://{creds}@{host}"


def _explain(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        location = [str(part) for part in item.get("loc", ())]
        name = ENV_PREFIX + (location[0].upper() if location else "?")
        detail = item.get("msg", "is not valid").removeprefix("Value error, ")
        if len(location) > 1:
            detail = f"{'.'.join(location[1:])}: {detail}"
        given = item.get("input")
        sensitive = any(word in part.lower() for part in location for word in ("secret", "password"))
        if given is not None and not isinstance(given, dict) and not sensitive:
            if isinstance(given, str):
                given = _mask_url_password(given)
            detail += f" (got {given!r})"
        lines.append(f"{name}: {detail}")
    return "Configuration problem:\n  " + "\n  ".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, raising :class:`ConfigError` naming each bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise ConfigError(_explain(error)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return load_settings()

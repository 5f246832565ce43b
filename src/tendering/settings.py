"""One settings object for the whole platform, read from environment variables.

    >>> settings = Settings.from_env({"TENDERING_PORT": "9000"})
    >>> settings.port
    9000

Variables (all optional):

==========================  ===============================================================
``DATABASE_URL``            PostgreSQL URL (``postgresql://user@host:5432/db``); unset means
                            the embedded PostgreSQL under the data directory.
``REDIS_URL``               Redis URL (``redis://host:6379/0`` or ``unix:///path``); unset means
                            the embedded Redis under the data directory.
``TENDERING_DATA_DIR``      where keys, blobs and the embedded servers live (``./.tendering``).
``TENDERING_HOST``          bind address (``127.0.0.1``).
``TENDERING_PORT``          bind port (``8000``).
``TENDERING_SIGNING_KEY``   the platform's Ed25519 private key, base64 of the raw 32-byte
                            seed; unset means ``<data dir>/platform-signing.key`` (made on
                            first start). Every ``serve`` process of one platform must share it.
``TENDERING_TOKEN_HOURS``   how long a login token lasts (``12``).
``TENDERING_SECURE_COOKIES``  ``1`` to mark the session cookie Secure (behind HTTPS).
``TENDERING_QUEUE``         the arq queue name (``tendering``).
``TENDERING_MAX_DOCUMENT_MB``  size limit of one uploaded notice document (``100``).
``TENDERING_DEPOSIT_RATE``  annual interest on refunded deposits, a decimal fraction between
                            0 and 1 with at most 6 decimals (``0.0035``, i.e. 0.35 %).
``TENDERING_DEPOSIT_DAY_COUNT``  the interest day count, ``ACT/360`` (default) or ``ACT/365``.
``TENDERING_CJK_FONT``      a TrueType/OpenType file with Chinese glyphs that PDFs embed
                            (unset: a system font, else the bundled one); must exist.
``TENDERING_CUSTODIAN_ROLES``  roles that may hold opening-key custodian keys, comma-separated
                            (``staff,supervisor,expert``); ``bidder`` and ``agency`` are refused.
``TENDERING_TRUSTED_PROXIES``  the load balancers' addresses, comma-separated CIDRs
                            (``10.0.0.0/8,127.0.0.1/32``; unset: none). ``X-Forwarded-For`` is
                            believed only from them: the client is its right-most address that
                            is not one of them. Unset, the client is the TCP peer.
``TENDERING_PASSWORD_WORKERS``  threads that check passwords at once (``2``; 1-64): each
                            Argon2id check takes 64 MiB and ~0.1 s of one core.
``TENDERING_PASSWORD_QUEUE``  password checks that may wait for a thread (``64``; 0-100000);
                            beyond it a login is refused with 429 ``auth.busy`` and Retry-After.
``TENDERING_UPLOAD_IDLE_SECONDS``  how long a request body may send nothing before it is
                            refused with 408 ``request.body_stalled`` (``30``; 1-3600).
``TENDERING_UPLOADS_PER_USER``  uploads one user may send at once, per server process
                            (``6``; 1-1000); one more is refused with 429 ``upload.too_many``.
``TENDERING_PUBLIC_URL``    the address the public reaches the platform at
                            (``https://ggzy.example.gov.cn``, a path allowed): absolute links
                            in the Atom feeds and OCDS are made from it, never from a request's
                            Host header, and a login from a page of this origin is same-site.
                            Unset: ``http://<TENDERING_HOST>:<TENDERING_PORT>``.
==========================  ===============================================================

Every variable the platform reads is read here, and every value is checked when the settings
are made (at start-up): an unusable one stops the process with a message naming the variable
and the rule, instead of failing later on the requests that use it.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["Settings", "SettingsError", "TrustedProxies", "asyncpg_url"]


class TrustedProxies:
    """The networks of the load balancers whose ``X-Forwarded-For`` is believed.

    A class rather than a tuple of ``ip_network`` values: handlers receive the settings
    through Litestar, which refuses a union of two custom types in a field."""

    __slots__ = ("networks",)

    def __init__(self, networks: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network] = ()):
        self.networks = tuple(networks)

    def __contains__(self, address: object) -> bool:
        try:
            ip = ipaddress.ip_address(str(address).strip())
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TrustedProxies) and other.networks == self.networks

    def __hash__(self) -> int:
        return hash(self.networks)

    def __repr__(self) -> str:
        return f"TrustedProxies({[str(n) for n in self.networks]})"


class SettingsError(ValueError):
    """A variable is present but unusable; start-up stops with this message."""


def asyncpg_url(url: str) -> str:
    """A PostgreSQL URL in the form SQLAlchemy's asyncpg dialect takes."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise SettingsError(f"DATABASE_URL has an unknown scheme: {url!r}")


def _int(env: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be 1 or 0 (true or false), got {env[name]!r}")


def _url(env: Mapping[str, str], name: str, schemes: tuple[str, ...]) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not raw.startswith(schemes):
        raise SettingsError(f"{name} must start with one of {', '.join(schemes)}; got {raw!r}")
    return raw


def _public_url(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.query
        or parts.fragment
    ):
        raise SettingsError(
            f"{name} must be an http(s) address with a host and at most a path, like"
            f" https://ggzy.example.gov.cn; got {raw!r}"
        )
    return raw.rstrip("/")


DAY_COUNTS = ("ACT/360", "ACT/365")  # the values of ledger.rules.DayCount


def _rate(env: Mapping[str, str], name: str, default: Decimal) -> Decimal:
    # The refund batch keeps its rate in NUMERIC(9, 6): more decimals would be rounded there.
    raw = env.get(name, "").strip()
    if raw == "":
        return default
    rule = f"{name} must be a decimal fraction between 0 and 1 with at most 6 decimals"
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise SettingsError(f"{rule} (0.0035 is 0.35 %), got {raw!r}") from None
    if not value.is_finite() or not 0 <= value <= 1:
        raise SettingsError(f"{rule} (0.0035 is 0.35 %), got {raw!r}")
    if value != value.quantize(Decimal("0.000001")):
        raise SettingsError(f"{rule}, got {raw!r}")
    return value


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip()
    if raw == "":
        return default
    if raw.upper() not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}; got {raw!r}")
    return raw.upper()


def _file(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not Path(raw).is_file():
        raise SettingsError(f"{name} must name an existing file, got {raw!r}")
    return Path(raw)


NO_PROXIES = TrustedProxies()  # immutable: one shared instance is the default


def _networks(env: Mapping[str, str], name: str) -> TrustedProxies:
    raw = env.get(name, "").strip()
    networks = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=True))
        except ValueError:
            raise SettingsError(
                f"{name} must be comma-separated IP networks such as 10.0.0.0/8 or"
                f" 127.0.0.1/32 (host bits zero), got {part!r}"
            ) from None
    return TrustedProxies(networks)


# Roles that may hold a share of a lot's opening key. Bidders compete for the lot and
# agencies act for the tenderer: neither may ever be among those who open the bids.
DEFAULT_CUSTODIAN_ROLES = frozenset({"staff", "supervisor", "expert"})
NEVER_CUSTODIANS = frozenset({"bidder", "agency"})
_ROLES = frozenset({"bidder", "staff", "supervisor", "auctioneer", "expert", "agency", "admin"})


def custodian_roles(env: Mapping[str, str]) -> frozenset[str]:
    """``TENDERING_CUSTODIAN_ROLES`` read and checked (see ``NEVER_CUSTODIANS``)."""
    raw = env.get("TENDERING_CUSTODIAN_ROLES", "").strip()
    if not raw:
        return DEFAULT_CUSTODIAN_ROLES
    roles = frozenset(part.strip() for part in raw.split(",") if part.strip())
    unknown = sorted(roles - _ROLES)
    if unknown:
        raise SettingsError(f"TENDERING_CUSTODIAN_ROLES names unknown roles: {unknown}")
    refused = sorted(roles & NEVER_CUSTODIANS)
    if refused:
        raise SettingsError(f"TENDERING_CUSTODIAN_ROLES must never include {refused}")
    return roles


@dataclass(frozen=True, kw_only=True)
class Settings:
    database_url: str | None = None
    redis_url: str | None = None
    data_dir: Path = Path(".tendering")
    host: str = "127.0.0.1"
    port: int = 8000
    signing_key_b64: str | None = None
    token_hours: int = 12
    secure_cookies: bool = False
    queue_name: str = "tendering"
    max_document_bytes: int = 100 * 1024 * 1024
    deposit_rate: Decimal = Decimal("0.0035")  # 人民银行活期存款基准利率
    deposit_day_count: str = "ACT/360"
    cjk_font: Path | None = None
    custodian_roles: frozenset[str] = DEFAULT_CUSTODIAN_ROLES
    trusted_proxies: TrustedProxies = NO_PROXIES
    password_workers: int = 2
    password_queue: int = 64
    upload_idle_seconds: int = 30
    uploads_per_user: int = 6
    public_url: str | None = None  # without a trailing slash

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            database_url=_url(
                env, "DATABASE_URL", ("postgresql://", "postgresql+asyncpg://", "postgres://")
            ),
            redis_url=_url(env, "REDIS_URL", ("redis://", "rediss://", "unix://")),
            data_dir=Path(env.get("TENDERING_DATA_DIR") or ".tendering"),
            host=env.get("TENDERING_HOST") or "127.0.0.1",
            port=_int(env, "TENDERING_PORT", 8000, low=0, high=65535),
            signing_key_b64=env.get("TENDERING_SIGNING_KEY") or None,
            token_hours=_int(env, "TENDERING_TOKEN_HOURS", 12, low=1, high=24 * 30),
            secure_cookies=_bool(env, "TENDERING_SECURE_COOKIES", False),
            queue_name=env.get("TENDERING_QUEUE") or "tendering",
            max_document_bytes=_int(env, "TENDERING_MAX_DOCUMENT_MB", 100, low=1, high=10_000)
            * 1024
            * 1024,
            deposit_rate=_rate(env, "TENDERING_DEPOSIT_RATE", Decimal("0.0035")),
            deposit_day_count=_choice(env, "TENDERING_DEPOSIT_DAY_COUNT", "ACT/360", DAY_COUNTS),
            cjk_font=_file(env, "TENDERING_CJK_FONT"),
            custodian_roles=custodian_roles(env),
            trusted_proxies=_networks(env, "TENDERING_TRUSTED_PROXIES"),
            password_workers=_int(env, "TENDERING_PASSWORD_WORKERS", 2, low=1, high=64),
            password_queue=_int(env, "TENDERING_PASSWORD_QUEUE", 64, low=0, high=100_000),
            upload_idle_seconds=_int(env, "TENDERING_UPLOAD_IDLE_SECONDS", 30, low=1, high=3600),
            uploads_per_user=_int(env, "TENDERING_UPLOADS_PER_USER", 6, low=1, high=1000),
            public_url=_public_url(env, "TENDERING_PUBLIC_URL"),
        )

    @property
    def embedded(self) -> bool:
        """True when either server must be started by the platform itself."""
        return self.database_url is None or self.redis_url is None

    @property
    def public_base_url(self) -> str:
        """Where links to the platform point (no trailing slash): the configured public URL,
        else this process's own address."""
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def public_origin(self) -> str:
        """``scheme://host[:port]`` of :attr:`public_base_url`, as a browser's Origin says it."""
        parts = urlsplit(self.public_base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def signing_key_path(self) -> Path:
        return self.data_dir / "platform-signing.key"

    def with_urls(self, *, database_url: str, redis_url: str) -> Settings:
        """A copy pointing at concrete servers (after the embedded ones have started)."""
        return replace(self, database_url=database_url, redis_url=redis_url)

    @property
    def concrete_redis_url(self) -> str:
        if self.redis_url is None:
            raise SettingsError("REDIS_URL is not set and no embedded Redis was started")
        return self.redis_url

    @property
    def async_database_url(self) -> str:
        """The URL in the form SQLAlchemy's asyncpg dialect takes."""
        if self.database_url is None:
            raise SettingsError("DATABASE_URL is not set and no embedded database was started")
        return asyncpg_url(self.database_url)

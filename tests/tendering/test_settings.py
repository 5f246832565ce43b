"""Settings from environment variables: defaults, and a clear refusal of unusable values."""

from __future__ import annotations

from decimal import Decimal
from ipaddress import ip_network
from pathlib import Path

import pytest

from tendering.core.reports import BUNDLED_FONT
from tendering.settings import Settings, SettingsError, TrustedProxies


def test_an_empty_environment_gives_the_documented_defaults():
    settings = Settings.from_env({})
    assert settings.database_url is None
    assert settings.redis_url is None
    assert settings.embedded
    assert settings.data_dir == Path(".tendering")
    assert settings.host == "127.0.0.1"
    assert settings.port == 8000
    assert settings.token_hours == 12
    assert settings.secure_cookies is False
    assert settings.queue_name == "tendering"
    assert settings.max_document_bytes == 100 * 1024 * 1024
    assert settings.signing_key_path == Path(".tendering/platform-signing.key")
    assert settings.blob_dir == Path(".tendering/blobs")
    assert settings.deposit_rate == Decimal("0.0035")
    assert settings.deposit_day_count == "ACT/360"
    assert settings.cjk_font is None
    assert settings.trusted_proxies == TrustedProxies()
    assert not settings.trusted_proxies
    assert settings.password_workers == 2
    assert settings.password_queue == 64
    assert settings.upload_idle_seconds == 30
    assert settings.uploads_per_user == 6


def test_values_are_read_from_the_environment():
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://app@db:5432/tendering",
            "REDIS_URL": "redis://cache:6379/0",
            "TENDERING_DATA_DIR": "/var/lib/tendering",
            "TENDERING_HOST": "0.0.0.0",
            "TENDERING_PORT": "9000",
            "TENDERING_TOKEN_HOURS": "8",
            "TENDERING_SECURE_COOKIES": "true",
            "TENDERING_MAX_DOCUMENT_MB": "5",
            "TENDERING_DEPOSIT_RATE": "0.015",
            "TENDERING_DEPOSIT_DAY_COUNT": "act/365",
            "TENDERING_CJK_FONT": str(BUNDLED_FONT),
            "TENDERING_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1/32,fd00::/8",
            "TENDERING_PASSWORD_WORKERS": "4",
            "TENDERING_PASSWORD_QUEUE": "0",
            "TENDERING_UPLOAD_IDLE_SECONDS": "5",
            "TENDERING_UPLOADS_PER_USER": "2",
        }
    )
    assert not settings.embedded
    assert settings.async_database_url == "postgresql+asyncpg://app@db:5432/tendering"
    assert settings.data_dir == Path("/var/lib/tendering")
    assert settings.port == 9000
    assert settings.token_hours == 8
    assert settings.secure_cookies is True
    assert settings.max_document_bytes == 5 * 1024 * 1024
    assert settings.deposit_rate == Decimal("0.015")
    assert settings.deposit_day_count == "ACT/365"
    assert settings.cjk_font == BUNDLED_FONT
    assert settings.trusted_proxies.networks == (
        ip_network("10.0.0.0/8"),
        ip_network("127.0.0.1/32"),
        ip_network("fd00::/8"),
    )
    assert "10.1.2.3" in settings.trusted_proxies
    assert "fd00::1" in settings.trusted_proxies
    assert "198.51.100.1" not in settings.trusted_proxies
    assert settings.password_workers == 4
    assert settings.password_queue == 0
    assert settings.upload_idle_seconds == 5
    assert settings.uploads_per_user == 2


@pytest.mark.parametrize("url", ["postgres://a@b/c", "postgresql+asyncpg://a@b/c"])
def test_every_postgresql_spelling_becomes_the_asyncpg_url(url):
    assert Settings.from_env({"DATABASE_URL": url}).async_database_url.startswith(
        "postgresql+asyncpg://a@b/c"
    )


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("TENDERING_PORT", "eighty", "whole number"),
        ("TENDERING_PORT", "70000", "between 0 and 65535"),
        ("TENDERING_PORT", "-1", "between 0 and 65535"),
        ("TENDERING_TOKEN_HOURS", "0", "between 1"),
        ("TENDERING_MAX_DOCUMENT_MB", "1.5", "whole number"),
        ("DATABASE_URL", "mysql://root@db/tendering", "must start with"),
        ("DATABASE_URL", "sqlite:///x.db", "must start with"),
        ("REDIS_URL", "http://cache:6379", "must start with"),
        ("TENDERING_SECURE_COOKIES", "maybe", "1 or 0"),
        ("TENDERING_DEPOSIT_RATE", "0,35%", "decimal fraction between 0 and 1"),
        ("TENDERING_DEPOSIT_RATE", "3.5", "between 0 and 1"),
        ("TENDERING_DEPOSIT_RATE", "-0.01", "between 0 and 1"),
        ("TENDERING_DEPOSIT_RATE", "NaN", "between 0 and 1"),
        ("TENDERING_DEPOSIT_RATE", "0.0000035", "at most 6 decimals"),
        ("TENDERING_DEPOSIT_DAY_COUNT", "30/360", "ACT/360, ACT/365"),
        ("TENDERING_CJK_FONT", "/nowhere/kai.ttf", "existing file"),
        ("TENDERING_TRUSTED_PROXIES", "10.0.0.1/8", "host bits zero"),
        ("TENDERING_TRUSTED_PROXIES", "load-balancer", "IP networks"),
        ("TENDERING_PASSWORD_WORKERS", "0", "between 1 and 64"),
        ("TENDERING_PASSWORD_QUEUE", "-1", "between 0"),
        ("TENDERING_UPLOAD_IDLE_SECONDS", "0", "between 1 and 3600"),
        ("TENDERING_UPLOADS_PER_USER", "many", "whole number"),
    ],
)
def test_an_unusable_value_stops_start_up_naming_the_variable(name, value, words):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({name: value})
    assert name in str(caught.value)
    assert words in str(caught.value)
    assert value in str(caught.value)


def test_without_a_database_the_asyncpg_url_is_a_clear_error():
    with pytest.raises(SettingsError, match="DATABASE_URL is not set"):
        _ = Settings.from_env({}).async_database_url


def test_concrete_urls_replace_the_embedded_default():
    settings = Settings.from_env({}).with_urls(
        database_url="postgresql://x@127.0.0.1:5433/t", redis_url="unix:///tmp/r.sock"
    )
    assert not settings.embedded
    assert settings.port == 8000


def test_the_command_line_refuses_a_bad_value_before_doing_anything(monkeypatch):
    from tendering.core.cli_support import CannotRun, platform_settings

    monkeypatch.setenv("TENDERING_DEPOSIT_RATE", "0.35%")
    with pytest.raises(CannotRun, match="TENDERING_DEPOSIT_RATE must be a decimal fraction"):
        platform_settings()


def test_only_the_settings_module_reads_the_environment():
    """A variable read elsewhere escapes the start-up check (a bad TENDERING_DEPOSIT_RATE
    was a 500 on every refund request): every read goes through Settings.from_env."""
    import ast

    src = Path(__file__).resolve().parents[2] / "src"
    readers = []
    for path in sorted(src.rglob("*.py")):
        if path == src / "tendering" / "settings.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
            if name in {"environ", "getenv", "environb", "getenvb"}:
                readers.append(f"{path.relative_to(src)}:{node.lineno}")
    assert readers == []


def test_the_public_url_is_an_http_address_without_its_trailing_slash():
    settings = Settings.from_env({"TENDERING_PUBLIC_URL": "https://ggzy.example.gov.cn/jy/"})
    assert settings.public_base_url == "https://ggzy.example.gov.cn/jy"
    assert settings.public_origin == "https://ggzy.example.gov.cn"
    assert Settings.from_env({}).public_base_url == "http://127.0.0.1:8000"
    for bad in ("ftp://x.cn", "https://", "https://u:p@x.cn", "https://x.cn/?a=1", "x.gov.cn"):
        with pytest.raises(SettingsError, match="TENDERING_PUBLIC_URL"):
            Settings.from_env({"TENDERING_PUBLIC_URL": bad})

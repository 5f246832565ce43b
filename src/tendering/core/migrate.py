"""Schema migrations with Alembic: the only way the schema is made (``tendering migrate``)."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

from alembic import command
from alembic.config import Config

import tendering

__all__ = ["alembic_config", "downgrade", "migrations_dir", "platform_seed", "upgrade"]


def migrations_dir() -> Path:
    """The scripts: inside the installed package (wheel), else the source checkout's."""
    package = Path(tendering.__file__).parent
    for candidate in (package / "migrations", package.parents[1] / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise FileNotFoundError("migrations/ not found beside the tendering package")


def alembic_config(async_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["url"] = async_url
    return config


def _in_thread(fn: object, *args: object) -> None:
    # env.py runs its own event loop; keep it off the caller's loop.
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        fn(*args)  # type: ignore[operator]
        return
    raise RuntimeError("call upgrade()/downgrade() via asyncio.to_thread from async code")


def upgrade(async_url: str, revision: str = "head") -> None:
    _in_thread(command.upgrade, alembic_config(async_url), revision)


def downgrade(async_url: str, revision: str = "base") -> None:
    _in_thread(command.downgrade, alembic_config(async_url), revision)


def platform_seed(rows: str) -> bytes:
    """The platform's signing seed, for a migration that re-keys secret ``rows`` (named in
    the refusal). Found as ``load_platform_key`` finds it, but never made: a new key would tag
    rows nobody could find again. Refuses in plain words when neither is there."""
    from tendering.settings import Settings

    settings = Settings.from_env()
    text = settings.signing_key_b64
    if not text and settings.signing_key_path.exists():
        text = settings.signing_key_path.read_text()
    if not text:
        raise RuntimeError(
            f"{rows} exist and must be converted with the platform's signing key, but "
            "neither TENDERING_SIGNING_KEY nor the key file in TENDERING_DATA_DIR is there: "
            "run the migration in the platform's own environment"
        )
    return base64.b64decode(text.strip(), validate=True)

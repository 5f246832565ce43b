"""``tendering serve | worker | migrate | demo``: running the platform."""

from __future__ import annotations

import click

from tendering.core.migrate import upgrade
from tendering.settings import Settings

__all__ = ["demo", "migrate", "serve", "worker"]


@click.command()
def serve() -> None:
    """Serve the platform (starts embedded PostgreSQL and Redis when no URLs are set)."""
    raise click.ClickException("not implemented yet")


@click.command()
def worker() -> None:
    """Run the background job worker (arq)."""
    raise click.ClickException("not implemented yet")


@click.command()
def migrate() -> None:
    """Bring the database schema up to date (Alembic upgrade head)."""
    settings = Settings.from_env()
    upgrade(settings.async_database_url)
    click.echo("database schema is up to date")


@click.command()
def demo() -> None:
    """Fill an empty database with a realistic county trading center."""
    raise click.ClickException("not implemented yet")

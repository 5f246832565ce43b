"""The ``tendering`` command.

Each context keeps its own click group beside its code (``core/audit/cli.py`` ...); this
module only gathers them, as ``app.py`` gathers routes.
"""

from __future__ import annotations

import click

from tendering import __version__
from tendering.runtime import demo, migrate, serve, worker

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tendering")
def main() -> None:
    """公共资源交易平台: the public-resource e-tendering and auction platform.

    Configured by environment variables (DATABASE_URL, REDIS_URL, TENDERING_DATA_DIR, ...);
    with no DATABASE_URL/REDIS_URL, `serve` starts embedded PostgreSQL and Redis.
    """


def _register() -> None:
    from tendering.bids.cli import opening, seal
    from tendering.core.audit.cli import audit
    from tendering.core.auth.cli import users
    from tendering.core.crypto.cli import keygen
    from tendering.core.draws.cli import draws
    from tendering.ledger.cli import ledger

    for command in (serve, worker, migrate, demo, users, audit, keygen, ledger, seal, opening):
        main.add_command(command)
    main.add_command(draws)


_register()

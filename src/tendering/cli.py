"""The ``tendering`` command.

Each context keeps its own click group beside its code (``core/audit/cli.py`` ...); this
module only names them, as ``app.py`` gathers routes. A command's module is imported when
that command runs (or ``--help`` lists it), not when ``tendering`` starts: ``tendering
seal`` on a bidder's machine and ``tendering --version`` need none of the server's imports.
"""

from __future__ import annotations

import importlib

import click

from tendering import __version__

__all__ = ["main"]

# Command name -> "module:attribute" of its click command, imported on first use.
COMMANDS: dict[str, str] = {
    "audit": "tendering.core.audit.cli:audit",
    "demo": "tendering.runtime:demo",
    "draws": "tendering.core.draws.cli:draws",
    "keygen": "tendering.core.crypto.cli:keygen",
    "ledger": "tendering.ledger.cli:ledger",
    "migrate": "tendering.runtime:migrate",
    "opening": "tendering.bids.cli:opening",
    "seal": "tendering.bids.cli:seal",
    "serve": "tendering.runtime:serve",
    "users": "tendering.core.auth.cli:users",
    "worker": "tendering.runtime:worker",
}


class LazyGroup(click.Group):
    """A group whose subcommands of ``COMMANDS`` are imported when asked for
    (click's lazy-loading pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, _, name = COMMANDS[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), name)
            if not isinstance(command, click.Command):
                raise TypeError(f"{COMMANDS[cmd_name]} is not a click command")
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tendering")
def main() -> None:
    """公共资源交易平台: the public-resource e-tendering and auction platform.

    Configured by environment variables (DATABASE_URL, REDIS_URL, TENDERING_DATA_DIR, ...);
    with no DATABASE_URL/REDIS_URL, `serve` starts embedded PostgreSQL and Redis.
    """

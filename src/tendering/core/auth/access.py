"""Object-level checks: may this actor reach this particular thing?

Route guards (``guards.py``) decide by role whether a caller may use an endpoint at all.
The checks here decide, inside a service, whether the caller may reach *this* row::

    org = await find_organization(session, code)
    if org is None:
        raise hidden(f"Organization {code}")
    ensure_own_organization(
        actor, org.id, thing=f"Organization {code}", except_roles=OVERSIGHT_ROLES
    )

**404 or 403?**

- :class:`NotFound` (404) when the thing belongs to someone else and its mere existence is
  nobody else's business: another bidder's deposit, bid, registration or receipt, another
  organization's users. The answer must be byte-for-byte the answer for a thing that does
  not exist (use :func:`hidden` for both), or the status, message or timing would tell a
  bidder who else is bidding (DESIGN.md: names and number of bidders are secret until opening).
- :class:`Forbidden` (403) when the caller may know the thing exists but its role may not
  do this to it: a bidder trying to publish a public notice, a staff user trying to sign an
  auction result. Role checks are the guards' job; services raise 403 for rules like "only
  the lot's named custodians may hand in a key share".
"""

from __future__ import annotations

from collections.abc import Iterable

from tendering.core.auth.actor import Actor
from tendering.core.auth.models import Role
from tendering.core.errors import ErrorCode, NotFound

__all__ = ["OVERSIGHT_ROLES", "ensure_own_organization", "hidden", "sees_every_organization"]

OVERSIGHT_ROLES: frozenset[Role] = frozenset({Role.ADMIN, Role.STAFF, Role.SUPERVISOR})
"""Roles that oversee the whole platform and may see every organization's directory entry."""


def hidden(thing: str) -> NotFound:
    """The one 404 for a thing that is missing *or* not the caller's to see.

    ``thing`` must be built only from what the caller already sent (the code in the URL),
    never from the row, so both cases read the same.
    """
    return NotFound(f"{thing} was not found.", code=ErrorCode.NOT_FOUND)


def sees_every_organization(actor: Actor, except_roles: Iterable[Role] = OVERSIGHT_ROLES) -> bool:
    return actor.user_id is None or actor.role in frozenset(except_roles)


def ensure_own_organization(
    actor: Actor,
    organization_id: int | None,
    *,
    thing: str = "This item",
    except_roles: Iterable[Role] = (),
) -> None:
    """Raise :func:`hidden` (404) unless ``organization_id`` is the actor's organization.

    ``except_roles`` lists roles that may reach every organization's thing (for example
    ``OVERSIGHT_ROLES`` for a directory entry; nobody for a sealed bid). The platform itself
    (a system actor of a job) acts for everyone: it is built in code, never from a request.
    """
    if actor.user_id is None:
        return
    if actor.role is not None and actor.role in frozenset(except_roles):
        return
    if organization_id is None or actor.organization_id != organization_id:
        raise hidden(thing)

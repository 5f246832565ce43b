"""deposit accounts name their holder, lot and terms only by a keyed tag and a sealed box

``deposit_account.bidder_org_id``, ``subject``, ``amount_due_fen`` and ``deadline`` (and the
unique (bidder_org_id, subject)) become ``holder_tag`` = HMAC-SHA256(tag key, ``"deposit|
<subject>|<bidder_org_id>"``), unique, and ``terms`` = AES-256-GCM of the four as canonical
JSON, sealed for ``"deposit:<number>"`` (``tendering.ledger.holders``), both keys derived
from the platform's signing seed as ``tendering.core.secrecy`` does. Without the key the
table no longer says who paid a deposit for which lot, or how many did (招标投标法第二十二条).

Existing rows are converted here (and back by the downgrade), which needs that seed: run the
migration with the platform's own environment (``TENDERING_SIGNING_KEY`` or
``TENDERING_DATA_DIR``), as ``tendering migrate`` and ``tendering serve`` do. An empty table
needs no key.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


# The derivations of tendering.core.secrecy and the formats of tendering.ledger.holders as
# of this revision, kept here on purpose: later code may change, this conversion may not.
def _keys() -> tuple[bytes, bytes]:
    from tendering.core.migrate import platform_seed

    seed = platform_seed("deposit accounts")
    return (
        hashlib.sha256(b"tendering bidder-tag v1|" + seed).digest(),
        hashlib.sha256(b"tendering sealed-field v1|" + seed).digest(),
    )


def _tag(tag_key: bytes, subject: str, bidder_org_id: int) -> str:
    message = f"deposit|{subject}|{bidder_org_id}".encode()
    return hmac.new(tag_key, message, hashlib.sha256).hexdigest()


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _seal(seal_key: bytes, number: str, value: dict[str, Any]) -> str:
    nonce = os.urandom(12)
    plain = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    sealed = AESGCM(seal_key).encrypt(nonce, plain, f"deposit:{number}".encode())
    return base64.b64encode(nonce + sealed).decode()


def _open(seal_key: bytes, number: str, box: str) -> dict[str, Any]:
    raw = base64.b64decode(box)
    try:
        plain = AESGCM(seal_key).decrypt(raw[:12], raw[12:], f"deposit:{number}".encode())
    except InvalidTag:
        raise RuntimeError(
            f"the sealed terms of deposit account {number} do not open with this signing key:"
            " run the downgrade with the key the platform sealed them with"
        ) from None
    value: dict[str, Any] = json.loads(plain)
    return value


def _has_rows(bind: sa.Connection) -> bool:
    return bool(bind.execute(sa.text("SELECT EXISTS (SELECT 1 FROM deposit_account)")).scalar())


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column("deposit_account", sa.Column("holder_tag", sa.String(length=64), nullable=True))
    op.add_column("deposit_account", sa.Column("terms", sa.Text(), nullable=True))
    if _has_rows(bind):
        tag_key, seal_key = _keys()
        rows = bind.execute(
            sa.text(
                "SELECT id, number, bidder_org_id, subject, amount_due_fen, deadline"
                " FROM deposit_account"
            )
        ).all()
        for r in rows:
            terms = {
                "bidder_org_id": r.bidder_org_id,
                "subject": r.subject,
                "amount_due_fen": r.amount_due_fen,
                "deadline": _rfc3339(r.deadline),
            }
            bind.execute(
                sa.text(
                    "UPDATE deposit_account SET holder_tag = :tag, terms = :terms WHERE id = :id"
                ),
                {
                    "tag": _tag(tag_key, r.subject, r.bidder_org_id),
                    "terms": _seal(seal_key, r.number, terms),
                    "id": r.id,
                },
            )
    op.alter_column("deposit_account", "holder_tag", nullable=False)
    op.alter_column("deposit_account", "terms", nullable=False)
    op.create_unique_constraint(
        op.f("uq_deposit_account_holder_tag"), "deposit_account", ["holder_tag"]
    )
    op.drop_constraint(
        op.f("uq_deposit_account_bidder_org_id_subject"), "deposit_account", type_="unique"
    )
    op.drop_constraint(
        op.f("ck_deposit_account_amount_due_positive"), "deposit_account", type_="check"
    )
    op.drop_constraint(
        op.f("fk_deposit_account_bidder_org_id_organization"),
        "deposit_account",
        type_="foreignkey",
    )
    op.drop_index(op.f("ix_deposit_account_bidder_org_id"), table_name="deposit_account")
    op.drop_index(op.f("ix_deposit_account_subject"), table_name="deposit_account")
    for column in ("bidder_org_id", "subject", "amount_due_fen", "deadline"):
        op.drop_column("deposit_account", column)


def downgrade() -> None:
    bind = op.get_bind()
    op.add_column("deposit_account", sa.Column("bidder_org_id", sa.Integer(), nullable=True))
    op.add_column("deposit_account", sa.Column("subject", sa.String(length=120), nullable=True))
    op.add_column("deposit_account", sa.Column("amount_due_fen", sa.BigInteger(), nullable=True))
    op.add_column(
        "deposit_account", sa.Column("deadline", sa.DateTime(timezone=True), nullable=True)
    )
    if _has_rows(bind):
        _, seal_key = _keys()
        rows = bind.execute(sa.text("SELECT id, number, terms FROM deposit_account")).all()
        for r in rows:
            terms = _open(seal_key, r.number, r.terms)
            bind.execute(
                sa.text(
                    "UPDATE deposit_account SET bidder_org_id = :org, subject = :subject,"
                    " amount_due_fen = :due, deadline = CAST(:deadline AS timestamptz)"
                    " WHERE id = :id"
                ),
                {
                    "org": terms["bidder_org_id"],
                    "subject": terms["subject"],
                    "due": terms["amount_due_fen"],
                    "deadline": datetime.fromisoformat(terms["deadline"].replace("Z", "+00:00")),
                    "id": r.id,
                },
            )
    for column in ("bidder_org_id", "subject", "amount_due_fen", "deadline"):
        op.alter_column("deposit_account", column, nullable=False)
    op.create_index(op.f("ix_deposit_account_subject"), "deposit_account", ["subject"])
    op.create_index(op.f("ix_deposit_account_bidder_org_id"), "deposit_account", ["bidder_org_id"])
    op.create_foreign_key(
        op.f("fk_deposit_account_bidder_org_id_organization"),
        "deposit_account",
        "organization",
        ["bidder_org_id"],
        ["id"],
    )
    op.create_check_constraint(
        op.f("ck_deposit_account_amount_due_positive"), "deposit_account", "amount_due_fen > 0"
    )
    op.create_unique_constraint(
        op.f("uq_deposit_account_bidder_org_id_subject"),
        "deposit_account",
        ["bidder_org_id", "subject"],
    )
    op.drop_constraint(op.f("uq_deposit_account_holder_tag"), "deposit_account", type_="unique")
    op.drop_column("deposit_account", "terms")
    op.drop_column("deposit_account", "holder_tag")

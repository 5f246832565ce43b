"""statement lines keep their payer, the payer's account and the memo only sealed

``statement_line.counterparty_name``, ``counterparty_account`` and ``memo`` become ``payer``:
AES-256-GCM of ``{"name", "account", "memo", "pad"}`` as canonical JSON padded with spaces to a
multiple of 512 bytes, sealed for ``"statement_line:<bank_account>:<bank_ref>"``
(``tendering.ledger.payers``), the key derived from the platform's signing seed as
``tendering.core.secrecy`` does. Without the key the table no longer says who paid a deposit,
nor (through the memo) often for which lot, before the opening (招标投标法第二十二条).
Amount, bank reference and value time stay in clear: the ledger sums and reconciles them.

Existing rows are converted here (and back by the downgrade), which needs that seed: run the
migration with the platform's own environment (``TENDERING_SIGNING_KEY`` or
``TENDERING_DATA_DIR``), as ``tendering migrate`` and ``tendering serve`` do. An empty table
needs no key.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_CLEAR = (("counterparty_name", 200), ("counterparty_account", 64), ("memo", 500))
_BATCH = 1000


# The derivation of tendering.core.secrecy and the format of tendering.ledger.payers as of
# this revision, kept here on purpose: later code may change, this conversion may not.
def _seal_key() -> bytes:
    from tendering.core.migrate import platform_seed

    seed = platform_seed("bank statement lines")
    return hashlib.sha256(b"tendering sealed-field v1|" + seed).digest()


def _purpose(bank_account: str, bank_ref: str) -> bytes:
    return f"statement_line:{bank_account}:{bank_ref}".encode()


def _canonical(value: dict[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def _seal(key: bytes, bank_account: str, bank_ref: str, value: dict[str, str]) -> str:
    pad = -len(_canonical(value | {"pad": ""})) % 512
    nonce = os.urandom(12)
    plain = _canonical(value | {"pad": " " * pad})
    sealed = AESGCM(key).encrypt(nonce, plain, _purpose(bank_account, bank_ref))
    return base64.b64encode(nonce + sealed).decode()


def _open(key: bytes, bank_account: str, bank_ref: str, box: str) -> dict[str, Any]:
    raw = base64.b64decode(box)
    try:
        plain = AESGCM(key).decrypt(raw[:12], raw[12:], _purpose(bank_account, bank_ref))
    except InvalidTag:
        raise RuntimeError(
            f"the sealed payer of statement line {bank_ref} on {bank_account} does not open"
            " with this signing key: run the downgrade with the key the platform sealed it with"
        ) from None
    value: dict[str, Any] = json.loads(plain)
    return value


def _has_rows(bind: sa.Connection) -> bool:
    return bool(bind.execute(sa.text("SELECT EXISTS (SELECT 1 FROM statement_line)")).scalar())


def _in_batches(bind: sa.Connection, select: str, update: str, convert: Any) -> None:
    """Every row of ``select`` (keyset pages by id), written back by ``update``."""
    last = 0
    while True:
        rows = bind.execute(sa.text(select), {"last": last, "n": _BATCH}).all()
        if not rows:
            return
        bind.execute(sa.text(update), [convert(r) for r in rows])
        last = rows[-1].id


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column("statement_line", sa.Column("payer", sa.Text(), nullable=True))
    if _has_rows(bind):
        key = _seal_key()
        _in_batches(
            bind,
            "SELECT id, bank_account, bank_ref, counterparty_name, counterparty_account, memo"
            " FROM statement_line WHERE id > :last ORDER BY id LIMIT :n",
            "UPDATE statement_line SET payer = :payer WHERE id = :id",
            lambda r: {
                "id": r.id,
                "payer": _seal(
                    key,
                    r.bank_account,
                    r.bank_ref,
                    {
                        "name": r.counterparty_name,
                        "account": r.counterparty_account,
                        "memo": r.memo,
                    },
                ),
            },
        )
    op.alter_column("statement_line", "payer", nullable=False)
    for column, _ in _CLEAR:
        op.drop_column("statement_line", column)


def downgrade() -> None:
    bind = op.get_bind()
    for column, length in _CLEAR:
        op.add_column(
            "statement_line",
            sa.Column(column, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=True),
        )
    if _has_rows(bind):
        key = _seal_key()

        def clear(r: Any) -> dict[str, Any]:
            value = _open(key, r.bank_account, r.bank_ref, r.payer)
            return {
                "id": r.id,
                "name": value["name"],
                "account": value["account"],
                "memo": value["memo"],
            }

        _in_batches(
            bind,
            "SELECT id, bank_account, bank_ref, payer FROM statement_line"
            " WHERE id > :last ORDER BY id LIMIT :n",
            "UPDATE statement_line SET counterparty_name = :name,"
            " counterparty_account = :account, memo = :memo WHERE id = :id",
            clear,
        )
    for column, _ in _CLEAR:
        op.alter_column("statement_line", column, nullable=False)
    op.drop_column("statement_line", "payer")

"""refund lines keep their payee's name and account only sealed

``refund_line.payee_name`` and ``payee_account`` become ``payee``: AES-256-GCM of
``{"name", "account", "pad"}`` as canonical JSON padded with spaces to a multiple of 512 bytes,
sealed for ``"refund_line:<instruction_ref>"`` (``tendering.ledger.payers``), the key derived
from the platform's signing seed as ``tendering.core.secrecy`` does. A refund goes back the way
the money came (原路退回), so in clear the payee says who paid a deposit; suspense and deposit
refunds are sometimes written before the lot's opening (招标投标法第二十二条).
Amounts, reference, status and the bank's reference stay in clear: the ledger reconciles them.

Existing rows are converted here (and back by the downgrade), which needs that seed: run the
migration with the platform's own environment (``TENDERING_SIGNING_KEY`` or
``TENDERING_DATA_DIR``), as ``tendering migrate`` and ``tendering serve`` do. An empty table
needs no key.

Revision ID: 0013
Revises: 0012
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

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_CLEAR = (("payee_name", 200), ("payee_account", 64))
_BATCH = 1000


# The derivation of tendering.core.secrecy and the format of tendering.ledger.payers as of
# this revision, kept here on purpose: later code may change, this conversion may not.
def _seal_key() -> bytes:
    from tendering.core.migrate import platform_seed

    seed = platform_seed("refund lines")
    return hashlib.sha256(b"tendering sealed-field v1|" + seed).digest()


def _purpose(instruction_ref: str) -> bytes:
    return f"refund_line:{instruction_ref}".encode()


def _canonical(value: dict[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def _seal(key: bytes, instruction_ref: str, value: dict[str, str]) -> str:
    pad = -len(_canonical(value | {"pad": ""})) % 512
    nonce = os.urandom(12)
    plain = _canonical(value | {"pad": " " * pad})
    sealed = AESGCM(key).encrypt(nonce, plain, _purpose(instruction_ref))
    return base64.b64encode(nonce + sealed).decode()


def _open(key: bytes, instruction_ref: str, box: str) -> dict[str, Any]:
    raw = base64.b64decode(box)
    try:
        plain = AESGCM(key).decrypt(raw[:12], raw[12:], _purpose(instruction_ref))
    except InvalidTag:
        raise RuntimeError(
            f"the sealed payee of refund line {instruction_ref} does not open with this"
            " signing key: run the downgrade with the key the platform sealed it with"
        ) from None
    value: dict[str, Any] = json.loads(plain)
    return value


def _has_rows(bind: sa.Connection) -> bool:
    return bool(bind.execute(sa.text("SELECT EXISTS (SELECT 1 FROM refund_line)")).scalar())


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
    op.add_column("refund_line", sa.Column("payee", sa.Text(), nullable=True))
    if _has_rows(bind):
        key = _seal_key()
        _in_batches(
            bind,
            "SELECT id, instruction_ref, payee_name, payee_account FROM refund_line"
            " WHERE id > :last ORDER BY id LIMIT :n",
            "UPDATE refund_line SET payee = :payee WHERE id = :id",
            lambda r: {
                "id": r.id,
                "payee": _seal(
                    key, r.instruction_ref, {"name": r.payee_name, "account": r.payee_account}
                ),
            },
        )
    op.alter_column("refund_line", "payee", nullable=False)
    for column, _ in _CLEAR:
        op.drop_column("refund_line", column)


def downgrade() -> None:
    bind = op.get_bind()
    for column, length in _CLEAR:
        op.add_column(
            "refund_line",
            sa.Column(column, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=True),
        )
    if _has_rows(bind):
        key = _seal_key()

        def clear(r: Any) -> dict[str, Any]:
            value = _open(key, r.instruction_ref, r.payee)
            return {"id": r.id, "name": value["name"], "account": value["account"]}

        _in_batches(
            bind,
            "SELECT id, instruction_ref, payee FROM refund_line"
            " WHERE id > :last ORDER BY id LIMIT :n",
            "UPDATE refund_line SET payee_name = :name, payee_account = :account WHERE id = :id",
            clear,
        )
    for column, _ in _CLEAR:
        op.alter_column("refund_line", column, nullable=False)
    op.drop_column("refund_line", "payee")

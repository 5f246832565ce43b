"""registration rows name no lot, organization or user; the amendment inbox is computed;
a question's asker is sealed

A reader of the database must learn neither who registered for a lot nor how many
(招标投标法第二十二条). ``tender_registration.lot_id``, ``organization_id`` and ``user_id``
become ``tag`` (HMAC of lot and organization under the platform's tag key, distinct for every
row) and ``holder`` (the three ids, sealed with AES-256-GCM under the platform's seal key).
``tender_registration_message`` is dropped: its rows counted each notice's registered bidders
and named them; the inbox is now computed from an organization's own registrations.
``tender_question.asker_organization_id`` becomes ``asker``, the organization sealed: only a
registered bidder may ask, so in clear it named one of the notice's potential bidders.

Existing rows are converted here, which needs the platform's signing seed: run the migration
with the platform's own environment (``TENDERING_SIGNING_KEY`` or ``TENDERING_DATA_DIR``), as
``tendering migrate`` and ``tendering serve`` do. An empty table needs no key.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os

import sqlalchemy as sa
from alembic import op
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_TABLE = "tender_registration"
_IDS = ("lot_id", "organization_id", "user_id")


class _Keys:
    """The derivations of tendering.core.secrecy and the holder format of
    tendering.tenders.registration as of this revision, kept here (not imported) on purpose,
    so this migration does not change when the code does."""

    def __init__(self, seed: bytes) -> None:
        self.tag_key = hashlib.sha256(b"tendering bidder-tag v1|" + seed).digest()
        self.seal_key = hashlib.sha256(b"tendering sealed-field v1|" + seed).digest()

    def tag(self, lot_id: int, organization_id: int) -> str:
        message = f"registration|{lot_id}|{organization_id}".encode()
        return hmac.new(self.tag_key, message, hashlib.sha256).hexdigest()

    def seal(self, purpose: str, ids: dict[str, int]) -> str:
        plain = json.dumps(
            {k: f"{v:020d}" for k, v in ids.items()}, sort_keys=True, separators=(",", ":")
        ).encode()
        nonce = os.urandom(12)
        sealed = AESGCM(self.seal_key).encrypt(nonce, plain, purpose.encode())
        return base64.b64encode(nonce + sealed).decode()

    def open(self, purpose: str, box: str) -> dict[str, int]:
        raw = base64.b64decode(box)
        plain = AESGCM(self.seal_key).decrypt(raw[:12], raw[12:], purpose.encode())
        return {k: int(v) for k, v in json.loads(plain).items()}


def _keys() -> _Keys:
    from tendering.core.migrate import platform_seed

    return _Keys(platform_seed("registration or question rows"))


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(f"SELECT id, lot_id, organization_id, user_id FROM {_TABLE}")  # noqa: S608
    ).all()
    questions = bind.execute(
        sa.text("SELECT id, asker_ref, asker_organization_id FROM tender_question")
    ).all()
    keys = _keys() if rows or questions else None
    op.add_column(_TABLE, sa.Column("tag", sa.String(length=64), nullable=True))
    op.add_column(_TABLE, sa.Column("holder", sa.Text(), nullable=True))
    for row in rows:
        assert keys is not None
        tag = keys.tag(row.lot_id, row.organization_id)
        holder = keys.seal(f"registration|{tag}", {name: getattr(row, name) for name in _IDS})
        bind.execute(
            sa.text(f"UPDATE {_TABLE} SET tag = :tag, holder = :holder WHERE id = :id"),  # noqa: S608
            {"tag": tag, "holder": holder, "id": row.id},
        )
    op.alter_column(_TABLE, "tag", nullable=False)
    op.alter_column(_TABLE, "holder", nullable=False)
    op.drop_constraint(op.f("uq_tender_registration_lot_id_organization_id"), _TABLE)
    op.drop_index(op.f("ix_tender_registration_lot_id"), table_name=_TABLE)
    op.drop_index(op.f("ix_tender_registration_organization_id"), table_name=_TABLE)
    op.drop_constraint(op.f("fk_tender_registration_lot_id_tender_lot"), _TABLE, "foreignkey")
    op.drop_constraint(
        op.f("fk_tender_registration_organization_id_organization"), _TABLE, "foreignkey"
    )
    op.drop_constraint(op.f("fk_tender_registration_user_id_app_user"), _TABLE, "foreignkey")
    for name in _IDS:
        op.drop_column(_TABLE, name)
    op.create_unique_constraint(op.f("uq_tender_registration_tag"), _TABLE, ["tag"])
    op.drop_table("tender_registration_message")

    op.add_column("tender_question", sa.Column("asker", sa.Text(), nullable=True))
    for question in questions:
        assert keys is not None
        asker = keys.seal(
            f"question|{question.asker_ref}", {"organization_id": question.asker_organization_id}
        )
        bind.execute(
            sa.text("UPDATE tender_question SET asker = :asker WHERE id = :id"),
            {"asker": asker, "id": question.id},
        )
    op.alter_column("tender_question", "asker", nullable=False)
    op.drop_constraint(
        op.f("fk_tender_question_asker_organization_id_organization"),
        "tender_question",
        "foreignkey",
    )
    op.drop_column("tender_question", "asker_organization_id")


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(f"SELECT id, tag, holder FROM {_TABLE}")).all()  # noqa: S608
    questions = bind.execute(sa.text("SELECT id, asker_ref, asker FROM tender_question")).all()
    keys = _keys() if rows or questions else None

    op.add_column("tender_question", sa.Column("asker_organization_id", sa.Integer()))
    for question in questions:
        assert keys is not None
        asker = keys.open(f"question|{question.asker_ref}", question.asker)
        bind.execute(
            sa.text("UPDATE tender_question SET asker_organization_id = :org WHERE id = :id"),
            {"org": asker["organization_id"], "id": question.id},
        )
    op.alter_column("tender_question", "asker_organization_id", nullable=False)
    op.drop_column("tender_question", "asker")
    op.create_foreign_key(
        op.f("fk_tender_question_asker_organization_id_organization"),
        "tender_question",
        "organization",
        ["asker_organization_id"],
        ["id"],
    )

    for name in _IDS:
        op.add_column(_TABLE, sa.Column(name, sa.Integer(), nullable=True))
    for row in rows:
        assert keys is not None
        ids = keys.open(f"registration|{row.tag}", row.holder)
        if keys.tag(ids["lot_id"], ids["organization_id"]) != row.tag:
            raise RuntimeError(f"registration row {row.id}: its sealed ids do not match its tag")
        bind.execute(
            sa.text(
                f"UPDATE {_TABLE} SET lot_id = :lot_id, organization_id = :organization_id,"  # noqa: S608
                " user_id = :user_id WHERE id = :id"
            ),
            ids | {"id": row.id},
        )
    for name in _IDS:
        op.alter_column(_TABLE, name, nullable=False)
    op.drop_constraint(op.f("uq_tender_registration_tag"), _TABLE)
    op.drop_column(_TABLE, "holder")
    op.drop_column(_TABLE, "tag")
    op.create_foreign_key(
        op.f("fk_tender_registration_lot_id_tender_lot"), _TABLE, "tender_lot", ["lot_id"], ["id"]
    )
    op.create_foreign_key(
        op.f("fk_tender_registration_organization_id_organization"),
        _TABLE,
        "organization",
        ["organization_id"],
        ["id"],
    )
    op.create_foreign_key(
        op.f("fk_tender_registration_user_id_app_user"), _TABLE, "app_user", ["user_id"], ["id"]
    )
    op.create_index(op.f("ix_tender_registration_lot_id"), _TABLE, ["lot_id"])
    op.create_index(op.f("ix_tender_registration_organization_id"), _TABLE, ["organization_id"])
    op.create_unique_constraint(
        op.f("uq_tender_registration_lot_id_organization_id"),
        _TABLE,
        ["lot_id", "organization_id"],
    )
    op.create_table(
        "tender_registration_message",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("amendment_id", sa.Integer(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["amendment_id"],
            ["tender_amendment.id"],
            name=op.f("fk_tender_registration_message_amendment_id_tender_amendment"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_tender_registration_message_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint(
            "organization_id", "amendment_id", name=op.f("pk_tender_registration_message")
        ),
    )
    # The inbox as the code of this revision computes it: every amendment of a notice of a
    # lot the organization registered for, issued since it registered.
    op.execute(
        "INSERT INTO tender_registration_message (organization_id, amendment_id, delivered_at)"
        " SELECT DISTINCT r.organization_id, a.id, a.issued_at FROM tender_registration r"
        " JOIN tender_notice_lot nl ON nl.lot_id = r.lot_id"
        " JOIN tender_amendment a ON a.notice_id = nl.notice_id"
        " WHERE a.issued_at >= r.registered_at"
    )

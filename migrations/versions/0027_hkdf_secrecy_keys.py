"""secrecy keys derived with HKDF, one label per use: every tag and sealed box re-keyed

``tendering.core.secrecy`` derived its keys as ``SHA-256(b"tendering bidder-tag v1|" + seed)``
(tags, and the mask of stored envelope headers, keyed by a tag) and ``SHA-256(b"tendering
sealed-field v1|" + seed)`` (sealed boxes). From this revision each use has its own key,
HKDF-SHA256 (RFC 5869) of the platform's signing seed, no salt, ``info`` =
``tendering/secrecy/v2/tag``, ``.../seal`` or ``.../mask``. This migration re-keys, in the
migration's one transaction, every row keyed by the old keys (the downgrade does the reverse):

* ``bid.bidder_tag``: tag of (lot, organization), or of a decoy (``"decoy"``, lot, index).
  Rows name no lot, so each tag is found among the pairs the opening's results and the
  registrations name and every lot's decoy indexes, else by trying every lot with an opening
  key with every organization that has a bidder key (lots × organizations HMACs at worst);
* ``tender_registration.tag`` and ``holder`` (sealed for ``registration|<tag>``),
  ``tender_question.asker``;
* ``deposit_account.holder_tag`` and ``terms``; ``statement_line.payer``; ``refund_line.payee``;
* ``draw.secret``, ``pools``, ``transcript``;
* ``expert.id_tag`` and ``personal`` (sealed for ``expert:<id_tag>``),
  ``expert_draw_request.parties``, ``expert_assignment.box``, ``expert_outbox.box``.

Stored envelope files are not rewritten: their header keeps its v1 mask and the platform
unmasks with the v1 key when the v2 key does not give a header (``bids/at_rest.py``).

Refused, in plain words and changing nothing:

* without the platform's key while any of these rows exist (run it in the platform's own
  environment, ``TENDERING_SIGNING_KEY`` or ``TENDERING_DATA_DIR``, as ``tendering migrate``
  does); no rows, no key needed;
* while a lot that has bids (or decoys) has not finished its opening (no result, not
  terminated): its decoys' number, times and nonces, and its withdrawals' nonces, derive from
  the key, and the nonces are committed in the audit chain (``bid.sealed``,
  ``bid.withdrawn``) to be revealed at the opening. Re-keyed, the opening would reveal nonces
  that open no commitment, and plan decoys other than those planted. Wait for the openings.

Revision ID: 0027
Revises: 0023
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

revision = "0027"
down_revision = "0023"
branch_labels = None
depends_on = None

_DECOYS = 5  # tendering.bids.decoys.MAX_DECOYS as of this revision
_NONCE = 12


class _Keys:
    """The derivations of tendering.core.secrecy as of this revision, kept here (not
    imported) on purpose, so this migration does not change when the code does."""

    def __init__(self, tag_key: bytes, seal_key: bytes) -> None:
        self.tag_key, self.seal_key = tag_key, seal_key

    @classmethod
    def v1(cls, seed: bytes) -> _Keys:
        return cls(
            hashlib.sha256(b"tendering bidder-tag v1|" + seed).digest(),
            hashlib.sha256(b"tendering sealed-field v1|" + seed).digest(),
        )

    @classmethod
    def v2(cls, seed: bytes) -> _Keys:
        def derive(use: str) -> bytes:
            info = f"tendering/secrecy/v2/{use}".encode()
            return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(seed)

        return cls(derive("tag"), derive("seal"))

    def tag(self, *parts: str | int) -> str:
        message = "|".join(str(part) for part in parts).encode()
        return hmac.new(self.tag_key, message, hashlib.sha256).hexdigest()

    def open(self, purpose: str, box: str, what: str) -> bytes:
        """The sealed plaintext (canonical JSON) as it was sealed, byte for byte."""
        raw = base64.b64decode(box)
        try:
            return AESGCM(self.seal_key).decrypt(raw[:_NONCE], raw[_NONCE:], purpose.encode())
        except InvalidTag:
            raise RuntimeError(
                f"{what} does not open with this signing key: run the migration with the key"
                " the platform sealed it with"
            ) from None

    def seal(self, purpose: str, plain: bytes) -> str:
        nonce = os.urandom(_NONCE)
        sealed = AESGCM(self.seal_key).encrypt(nonce, plain, purpose.encode())
        return base64.b64encode(nonce + sealed).decode()


class _Rekey:
    """Every update, computed first (reads only), then written: a refusal writes nothing."""

    def __init__(self, bind: sa.Connection, old: _Keys, new: _Keys) -> None:
        self.bind, self.old, self.new = bind, old, new
        self.updates: list[tuple[str, list[dict[str, Any]]]] = []
        self.registered: list[tuple[int, int]] = []  # (lot, organization), from registrations

    def rows(self, sql: str) -> Sequence[Any]:
        return self.bind.execute(sa.text(sql)).all()

    def reseal(self, purpose_old: str, purpose_new: str, box: str, what: str) -> str:
        return self.new.seal(purpose_new, self.old.open(purpose_old, box, what))

    def plan(self, sql: str, params: list[dict[str, Any]]) -> None:
        if params:
            self.updates.append((sql, params))

    def write(self) -> None:
        for sql, params in self.updates:
            self.bind.execute(sa.text(sql), params)


def _resealed(job: _Rekey, table: str, key: str, column: str, purpose: str) -> None:
    """Re-seal ``column`` (nullable) of every row, for a purpose that names no tag:
    ``purpose`` is formatted with the row."""
    rows = job.rows(f"SELECT * FROM {table} WHERE {column} IS NOT NULL")  # noqa: S608
    params = []
    for row in rows:
        where = purpose.format(**row._mapping)
        box = job.reseal(where, where, getattr(row, column), f"{table}.{column} of {where}")
        params.append({"key": getattr(row, key), "box": box})
    job.plan(f"UPDATE {table} SET {column} = :box WHERE {key} = :key", params)  # noqa: S608


def _registrations(job: _Rekey) -> None:
    params = []
    for row in job.rows("SELECT id, tag, holder FROM tender_registration"):
        what = f"the holder of registration row {row.id}"
        plain = job.old.open(f"registration|{row.tag}", row.holder, what)
        ids = json.loads(plain)
        lot, org = int(ids["lot_id"]), int(ids["organization_id"])
        if job.old.tag("registration", lot, org) != row.tag:
            raise RuntimeError(f"registration row {row.id}: its sealed ids do not match its tag")
        job.registered.append((lot, org))
        tag = job.new.tag("registration", lot, org)
        holder = job.new.seal(f"registration|{tag}", plain)
        params.append({"id": row.id, "tag": tag, "holder": holder})
    job.plan("UPDATE tender_registration SET tag = :tag, holder = :holder WHERE id = :id", params)


def _deposits(job: _Rekey) -> None:
    params = []
    for row in job.rows("SELECT id, number, holder_tag, terms FROM deposit_account"):
        what = f"the sealed terms of deposit account {row.number}"
        plain = job.old.open(f"deposit:{row.number}", row.terms, what)
        terms = json.loads(plain)
        subject, org = str(terms["subject"]), int(terms["bidder_org_id"])
        if job.old.tag("deposit", subject, org) != row.holder_tag:
            raise RuntimeError(f"deposit account {row.number}: its sealed terms miss its tag")
        terms_box = job.new.seal(f"deposit:{row.number}", plain)
        tag = job.new.tag("deposit", subject, org)
        params.append({"id": row.id, "tag": tag, "terms": terms_box})
    job.plan("UPDATE deposit_account SET holder_tag = :tag, terms = :terms WHERE id = :id", params)


def _experts(job: _Rekey) -> None:
    params = []
    for row in job.rows("SELECT id, id_tag, personal FROM expert"):
        what = f"the sealed personal data of expert row {row.id}"
        plain = job.old.open(f"expert:{row.id_tag}", row.personal, what)
        id_number = str(json.loads(plain)["id_number"])
        if job.old.tag("expert_id", id_number) != row.id_tag:
            raise RuntimeError(f"expert row {row.id}: its sealed ID number misses its tag")
        tag = job.new.tag("expert_id", id_number)
        params.append({"id": row.id, "tag": tag, "box": job.new.seal(f"expert:{tag}", plain)})
    job.plan("UPDATE expert SET id_tag = :tag, personal = :box WHERE id = :id", params)


_IN_FLIGHT = """
    SELECT l.id, l.code FROM tender_lot l WHERE l.result IS NULL AND NOT EXISTS (
        SELECT 1 FROM tender_notice_lot nl JOIN tender_notice n ON n.id = nl.notice_id
        WHERE nl.lot_id = l.id AND n.termination_reason IS NOT NULL)
"""


def _bids(job: _Rekey) -> None:
    """Each bid tag's (lot, organization) or (lot, decoy index), found under the old key.
    Every version of a bidder's bid for a lot carries the same tag, so tags are searched,
    not rows: first the pairs the opening's results and the registrations name (a bidder
    registers before it bids) and the decoys, then, for what is left, every pair."""
    rows = job.rows("SELECT id, bidder_tag FROM bid")
    if not rows:
        return
    rest = {row.bidder_tag for row in rows}
    found: dict[str, tuple[int, str, int]] = {}  # old tag: (lot, "org" or "decoy", which)
    opened = job.rows(
        "SELECT DISTINCT lot_id, organization_id FROM opening_result"
        " WHERE organization_id IS NOT NULL"
    )
    lots = [r[0] for r in job.rows("SELECT lot_id FROM opening_lot_key ORDER BY lot_id")]
    orgs = [r[0] for r in job.rows("SELECT DISTINCT organization_id FROM bidder_key")]
    tagger = _Tagger(job.old.tag_key)
    for lot, kind, which in _candidates([*opened, *job.registered], lots, orgs):
        if not rest:
            break
        old = tagger.tag("decoy", lot, which) if kind == "decoy" else tagger.tag(lot, which)
        if old in rest:
            rest.discard(old)
            found[old] = (lot, kind, which)
    if rest:
        ids = sorted(row.id for row in rows if row.bidder_tag in rest)
        raise RuntimeError(
            f"bid rows {ids[:10]} carry a tag of no lot and organization under this signing"
            " key: run the migration with the key the platform tagged them with"
        )
    flying = {lot_id: code for lot_id, code in job.rows(_IN_FLIGHT)}
    waiting = sorted({flying[lot] for lot, _, _ in found.values() if lot in flying})
    if waiting:
        raise RuntimeError(
            f"lots {', '.join(waiting)} have bids and have not finished their opening: their"
            " decoys' plan and the nonces their audit chain commits to derive from the key, so"
            " re-keying now would break their opening. Run the migration when every lot with"
            " bids has been opened (or its notice terminated)"
        )
    params = []
    for old, (lot, kind, which) in found.items():
        tag = job.new.tag("decoy", lot, which) if kind == "decoy" else job.new.tag(lot, which)
        params.append({"old": old, "tag": tag})
    job.plan("UPDATE bid SET bidder_tag = :tag WHERE bidder_tag = :old", params)


class _Tagger:
    """``_Keys.tag``, the HMAC's keyed state made once: the search computes millions."""

    def __init__(self, key: bytes) -> None:
        self.keyed = hmac.new(key, digestmod=hashlib.sha256)

    def tag(self, *parts: str | int) -> str:
        mac = self.keyed.copy()
        mac.update("|".join(str(part) for part in parts).encode())
        return mac.hexdigest()


def _candidates(
    named: Iterable[tuple[int, int]], lots: Sequence[int], orgs: Sequence[int]
) -> Iterable[tuple[int, str, int]]:
    for lot, org in named:
        yield lot, "org", org
    for lot in lots:
        for index in range(_DECOYS):
            yield lot, "decoy", index
    for lot in lots:
        for org in orgs:
            yield lot, "org", org


_TABLES = (
    "bid",
    "tender_registration",
    "tender_question",
    "deposit_account",
    "statement_line",
    "refund_line",
    "draw",
    "expert",
    "expert_draw_request",
    "expert_assignment",
    "expert_outbox",
)


def _rekey(direction: str) -> None:
    bind = op.get_bind()
    # No row may be written between this read and the re-key's write (a process still on
    # the old keys would leave a row nobody can read): writers wait, readers do not.
    bind.execute(sa.text(f"LOCK TABLE {', '.join(_TABLES)} IN EXCLUSIVE MODE"))
    filled = [
        bind.execute(sa.text(f"SELECT EXISTS (SELECT 1 FROM {t})")).scalar()  # noqa: S608
        for t in _TABLES
    ]
    if not any(filled):
        return  # nothing keyed: no key needed
    from tendering.core.migrate import platform_seed

    seed = platform_seed(
        "bids, registrations, deposits, bank lines, refunds, draws or experts (re-keyed"
        f" {direction})"
    )
    v1, v2 = _Keys.v1(seed), _Keys.v2(seed)
    job = _Rekey(bind, *((v1, v2) if direction == "v1 to v2" else (v2, v1)))
    _registrations(job)
    _bids(job)  # after the registrations: the pairs they name are tried first
    _resealed(job, "tender_question", "id", "asker", "question|{asker_ref}")
    _deposits(job)
    _resealed(job, "statement_line", "id", "payer", "statement_line:{bank_account}:{bank_ref}")
    _resealed(job, "refund_line", "id", "payee", "refund_line:{instruction_ref}")
    for part in ("secret", "pools", "transcript"):
        _resealed(job, "draw", "id", part, f"draw_{part}:{{code}}")
    _experts(job)
    _resealed(job, "expert_draw_request", "id", "parties", "expert_request:{draw_code}")
    _resealed(job, "expert_assignment", "id", "box", "expert_assignment:{draw_code}:{slot}")
    _resealed(job, "expert_outbox", "id", "box", "expert_outbox")
    job.write()


def upgrade() -> None:
    _rekey("v1 to v2")


def downgrade() -> None:
    _rekey("v2 to v1")

"""The key ceremony: custodian keys, and each lot's opening key split among custodians.

A custodian registers once (:func:`register_custodian_key`): the platform makes an X25519
key pair and stores its private half only wrapped by the passphrase the custodian chose
(Argon2id + AES-GCM, :mod:`tendering.core.crypto.wrap`). At a lot's ceremony, run by the
publication of its notice (a job, with nobody's passphrase at hand), the opening key pair is
made, its private half split k-of-n (Shamir over GF(256)), each share HPKE-sealed to its
custodian's public key, and the private key dropped: reading a share needs the custodian's
passphrase, and rebuilding the key needs k of them::

    await register_custodian_key(session, actor=custodian, passphrase="...")   # once
    await hold_key_ceremonies(session, LotsPublished(lots, actor))  # tenders' lots_published
    share = await custodian_share(session, lot=..., key=..., user_id=..., passphrase="...")

The public key goes to the bids context (``bids.publish_lot_key``; read it back with
``bids.lot_key``); the shares stay here.

A lot whose custodians are not all registered gets no key at publication; the event
``opening.key_ceremony_waiting`` says who is missing, and staff hold it later with
:func:`hold_key_ceremony` (bids are refused until the lot has a key).
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass

from cryptography.hazmat.primitives import hpke as _hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tendering.bids import PublishedKey, lot_key, publish_lot_key
from tendering.core.audit import lot_stream, record
from tendering.core.auth.actor import Actor
from tendering.core.clock import db_now, rfc3339
from tendering.core.crypto import hpke, shamir, wrap
from tendering.core.errors import (
    Conflict,
    ErrorCode,
    Inconsistent,
    InvalidInput,
    NotFound,
    RuleViolation,
    WeakPassphrase,
    WrongPassphrase,
)
from tendering.opening.custodians import (
    check_lot_custodians,
    check_may_hold_key,
    lot_custodian_problems,
)
from tendering.opening.models import CustodianKey, LotKeyShare
from tendering.tenders import LotsPublished, LotView, lot_view

__all__ = [
    "CustodianReady",
    "custodian_share",
    "custodian_status",
    "hold_key_ceremonies",
    "hold_key_ceremony",
    "lot_of",
    "register_custodian_key",
]

_SUITE = _hpke.Suite(_hpke.KEM.X25519, _hpke.KDF.HKDF_SHA256, _hpke.AEAD.AES_256_GCM)
KDF: wrap.Argon2idParams | wrap.ScryptParams = wrap.ARGON2ID_DEFAULT


@dataclass(frozen=True)
class CustodianReady:
    user_id: int
    public_key: str
    registered_at: str


def _custodian_label(user_id: int, public_b64: str) -> str:
    return f"tendering-custodian-key user:{user_id} public:{public_b64}"


def _share_info(*, lot: str, user_id: int, key_id: str) -> bytes:
    return f"tbid1-share|lot:{lot}|custodian:user:{user_id}|key:{key_id}".encode()


async def register_custodian_key(
    session: AsyncSession, *, actor: Actor, passphrase: str
) -> CustodianReady:
    """Make the caller's custodian key, wrapped by ``passphrase``; once per user."""
    if actor.user_id is None:
        raise Inconsistent("actor.user_id is missing")
    if await session.get(CustodianKey, actor.user_id) is not None:
        raise Conflict(
            "您已登记保管人密钥 (a custodian key is already registered for you).",
            code=ErrorCode.OPENING_CUSTODIAN_REGISTERED,
        )
    await check_may_hold_key(session, actor.user_id)
    private = X25519PrivateKey.generate()
    public_b64 = base64.b64encode(hpke.public_raw_of(private)).decode()
    try:
        wrapped = await asyncio.to_thread(
            wrap.wrap_share,
            hpke.private_raw_of(private),
            passphrase,
            label=_custodian_label(actor.user_id, public_b64),
            kdf=KDF,
        )
    except WeakPassphrase as error:
        raise InvalidInput(
            f"passphrase: 口令至少{wrap.MIN_PASSPHRASE_LEN}个字符 ({error.message}).",
            code=error.code,
            field="passphrase",
        ) from None
    del private
    now = await db_now(session)
    row = CustodianKey(
        user_id=actor.user_id,
        public_key=public_b64,
        wrapped_private=wrapped.decode(),
        registered_at=now,
    )
    session.add(row)
    await session.flush()
    await record(
        session,
        stream="global",
        action="opening.custodian_registered",
        actor=actor,
        payload={"user": actor.user_id, "public_key": public_b64},
    )
    return CustodianReady(actor.user_id, public_b64, rfc3339(now))


async def custodian_status(session: AsyncSession, user_id: int) -> CustodianReady | None:
    row = await session.get(CustodianKey, user_id)
    if row is None:
        return None
    return CustodianReady(row.user_id, row.public_key, rfc3339(row.registered_at))


def _no_lot(lot_code: str) -> NotFound:
    return NotFound(f"没有标段 {lot_code} (no such lot).", code=ErrorCode.OPENING_NO_LOT)


async def lot_of(session: AsyncSession, lot_id: int) -> LotView:
    lot = await lot_view(session, lot_id=lot_id)
    if lot is None:
        raise _no_lot(f"#{lot_id}")
    return lot


async def hold_key_ceremonies(session: AsyncSession, published: LotsPublished) -> None:
    """The ceremony of every lot just published that has none yet and whose custodians are
    all registered; for the others, an ``opening.key_ceremony_waiting`` event naming who is
    missing. The listener of tenders' ``lots_published`` hook (wired in ``app.py``)."""
    actor = published.actor
    for lot in published.lots:
        if await lot_key(session, lot.id) is not None:
            continue
        missing = await _missing_custodians(session, lot)
        problems = await lot_custodian_problems(session, lot.custodian_ids, k=lot.custodian_k)
        if missing or problems or not lot.custodian_ids:
            await record(
                session,
                stream=lot_stream(lot.code),
                action="opening.key_ceremony_waiting",
                actor=actor,
                payload={
                    "missing_custodians": missing,
                    "custodians": list(lot.custodian_ids),
                    "problems": problems,
                },
            )
            continue
        await _ceremony(session, lot, actor=actor)


async def hold_key_ceremony(session: AsyncSession, *, lot_code: str, actor: Actor) -> PublishedKey:
    """Staff hold a lot's ceremony that could not run at publication."""
    lot = await lot_view(session, code=lot_code, lock=True)
    if lot is None:
        raise _no_lot(lot_code)
    existing = await lot_key(session, lot.id)
    if existing is not None:
        return existing
    if not lot.custodian_ids:
        raise RuleViolation(
            "该标段未指定密钥保管人 (custodians: the lot names no custodian).",
            code=ErrorCode.OPENING_NO_CUSTODIANS,
            field="custodians",
        )
    missing = await _missing_custodians(session, lot)
    if missing:
        raise RuleViolation(
            f"保管人尚未登记密钥 (custodians {missing} have not registered a custodian key).",
            code=ErrorCode.OPENING_CUSTODIAN_UNREGISTERED,
            details={"missing": missing},
        )
    await check_lot_custodians(session, lot.custodian_ids, k=lot.custodian_k)
    return await _ceremony(session, lot, actor=actor)


async def _missing_custodians(session: AsyncSession, lot: LotView) -> list[int]:
    query = select(col(CustodianKey.user_id)).where(
        col(CustodianKey.user_id).in_(lot.custodian_ids)
    )
    have = set((await session.scalars(query)).all())
    return [u for u in lot.custodian_ids if u not in have]


def _split(secret: bytes, *, k: int, n: int) -> list[shamir.Share]:
    if k == 1:  # a degree-0 polynomial: every share is the secret itself
        return [shamir.Share(x=i, y=secret) for i in range(1, n + 1)]
    return shamir.split(secret, k=k, n=n)


async def _ceremony(session: AsyncSession, lot: LotView, *, actor: Actor | str) -> PublishedKey:
    custodians = list(lot.custodian_ids)
    rows = (
        await session.scalars(select(CustodianKey).where(col(CustodianKey.user_id).in_(custodians)))
    ).all()
    publics = {row.user_id: base64.b64decode(row.public_key) for row in rows}
    private = hpke.generate_opening_key()
    public_raw = hpke.public_raw_of(private)
    key_id = hpke.key_id(public_raw)
    shares = _split(hpke.private_raw_of(private), k=lot.custodian_k, n=len(custodians))
    del private  # only the sealed shares outlive this function
    sealed = {
        user_id: base64.b64encode(
            _SUITE.encrypt(
                share.to_bytes(),
                X25519PublicKey.from_public_bytes(publics[user_id]),
                info=_share_info(lot=lot.code, user_id=user_id, key_id=key_id),
            )
        ).decode()
        for user_id, share in zip(custodians, shares, strict=True)
    }
    del shares
    now = await db_now(session)
    key = await publish_lot_key(
        session,
        lot_id=lot.id,
        key_id=key_id,
        public_key=base64.b64encode(public_raw).decode(),
        k=lot.custodian_k,
        n=len(custodians),
        held_at=now,
    )
    await session.execute(
        insert(LotKeyShare),
        [{"lot_id": lot.id, "user_id": u, "sealed_share": s} for u, s in sealed.items()],
    )
    await record(
        session,
        stream=lot_stream(lot.code),
        action="opening.key_ceremony",
        actor=actor,
        payload={
            "key_id": key_id,
            "public_key": key.public_key,
            "suite": hpke.SUITE_NAME,
            "k": key.k,
            "n": key.n,
            "custodians": [f"user:{u}" for u in custodians],
            "held_at": rfc3339(now),
        },
    )
    return key


async def custodian_share(
    session: AsyncSession, *, lot: LotView, key: PublishedKey, user_id: int, passphrase: str
) -> shamir.Share:
    """The custodian's share of ``lot``'s key; ``WrongPassphrase`` says only that."""
    custodian = await session.get(CustodianKey, user_id)
    stored = await session.get(LotKeyShare, (lot.id, user_id))
    if custodian is None or stored is None:
        raise RuleViolation(
            "您不是该标段的密钥保管人 (you hold no share of this lot's key).",
            code=ErrorCode.OPENING_NOT_CUSTODIAN,
        )
    try:  # Argon2id takes a fraction of a second and 64 MiB: off the event loop
        raw = await asyncio.to_thread(
            wrap.unwrap_share,
            custodian.wrapped_private,
            passphrase,
            expected_label=_custodian_label(user_id, custodian.public_key),
        )
    except WrongPassphrase:
        raise InvalidInput(
            "passphrase: 口令不正确 (the passphrase is wrong).",
            code=ErrorCode.OPENING_WRONG_PASSPHRASE,
            field="passphrase",
        ) from None
    private = X25519PrivateKey.from_private_bytes(raw)
    info = _share_info(lot=lot.code, user_id=user_id, key_id=key.key_id)
    share = _SUITE.decrypt(base64.b64decode(stored.sealed_share), private, info=info)
    return shamir.Share.from_bytes(share)

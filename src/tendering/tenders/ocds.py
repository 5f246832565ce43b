"""A published notice as an Open Contracting Data Standard 1.1 release package.

One contracting process per project (``ocid`` = prefix + transaction code); each state of a
notice is one release: ``<project>-notice-<id>-<n>`` after ``n`` amendments, tagged
``tender`` first and ``tenderAmendment`` after; once lots have results (``-results-<k>``
with ``k`` lots decided) or the notice is closed (``-closed``) or terminated
(``-terminated``), ``tenderUpdate``, and ``tenderCancellation`` for a termination.

Lots follow the OCDS Lots extension (declared in the package's ``extensions``): each lot of
the notice is in ``tender.lots`` with its own status, ``unsuccessful`` when it failed (流标),
``complete`` when the notice closed after its opening, ``cancelled`` when the notice was
terminated, else ``active``; ``tender.status`` sums them up as the extension's guidance says
(any lot active: active; else any complete: complete; else any unsuccessful: unsuccessful;
else cancelled), so a notice whose every lot failed says ``unsuccessful``.

Amounts are yuan (OCDS ``Value.amount`` is a number); fen that are not whole yuan become a
two-decimal number, exact in JSON text. Nothing about registrations goes here (no
``numberOfTenderers``, no ``tenderers``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tendering.core.clock import rfc3339
from tendering.core.errors import Inconsistent
from tendering.tenders.models import LotResult, NoticeStatus, ProcurementMethod
from tendering.tenders.schemas import LotRead, NoticeDetail, OcdsPackage, OcdsPublisher

__all__ = ["LOTS_EXTENSION", "OCID_PREFIX", "lot_status", "release_package", "tender_status"]

# Register a prefix with the OCDS helpdesk for production; this one is the platform's own.
OCID_PREFIX = "ocds-tndrng"
PUBLISHER = "公共资源交易中心 Public Resource Trading Center"
_METHODS = {ProcurementMethod.OPEN: "open", ProcurementMethod.INVITED: "selective"}
LOTS_EXTENSION = (
    "https://raw.githubusercontent.com/open-contracting-extensions/"
    "ocds_lots_extension/v1.1.5/extension.json"
)


def lot_status(notice: NoticeDetail, lot: LotRead) -> str:
    """The lot's status in the tender status codelist."""
    if lot.result == LotResult.FAILED:
        return "unsuccessful"
    if notice.termination_reason is not None:
        return "cancelled"
    if notice.status == NoticeStatus.CLOSED:
        return "complete"
    return "active"


def tender_status(statuses: list[str]) -> str:
    """The tender's status from its lots' (the Lots extension's guidance)."""
    for status in ("active", "complete", "unsuccessful"):
        if status in statuses:
            return status
    return "cancelled" if statuses else "active"


def _state(notice: NoticeDetail) -> tuple[str, list[str], str]:
    """The release's id suffix after the amendment count, its tags and its date."""
    published = notice.published_at
    if published is None:
        raise Inconsistent("published is missing")
    decided = [lot.result_at for lot in notice.lot_details if lot.result_at is not None]
    moments = [published, *(a.issued_at for a in notice.amendments), *decided]
    if notice.closed_at is not None:
        moments.append(notice.closed_at)
    suffix = f"-results-{len(decided)}" if decided else ""
    if notice.termination_reason is not None:
        suffix, tags = suffix + "-terminated", ["tenderCancellation"]
    elif notice.status == NoticeStatus.CLOSED:
        suffix, tags = suffix + "-closed", ["tenderUpdate"]
    elif decided:
        tags = ["tenderUpdate"]
    else:
        tags = ["tenderAmendment"] if notice.amendments else ["tender"]
    return suffix, tags, rfc3339(max(moments))


def _amount(fen: int) -> int | float:
    whole, cents = divmod(fen, 100)
    return whole if cents == 0 else float(Decimal(fen) / 100)


def _release(notice: NoticeDetail, base_url: str) -> dict[str, Any]:
    if notice.published_at is None:
        raise Inconsistent("notice.published_at is missing")
    suffix, tags, date = _state(notice)
    statuses = [lot_status(notice, lot) for lot in notice.lot_details]
    tender: dict[str, Any] = {
        "id": f"{notice.project}-notice-{notice.id}",
        "title": notice.title,
        "description": notice.body,
        "status": tender_status(statuses),
        "procuringEntity": {"id": notice.tenderer, "name": notice.tenderer_name},
        "items": [
            {
                "id": lot.code,
                "description": lot.title,
                "quantity": 1,
                "unit": {
                    "name": "标段 lot",
                    "value": {"amount": _amount(lot.estimated_price_fen), "currency": "CNY"},
                },
                "relatedLot": lot.code,
            }
            for lot in notice.lot_details
        ],
        "lots": [
            {
                "id": lot.code,
                "title": lot.title,
                "status": status,
                "value": {"amount": _amount(lot.estimated_price_fen), "currency": "CNY"},
            }
            for lot, status in zip(notice.lot_details, statuses, strict=True)
        ],
        "value": {
            "amount": _amount(sum(lot.estimated_price_fen for lot in notice.lot_details)),
            "currency": "CNY",
        },
        "procurementMethod": _METHODS[notice.method],
        "mainProcurementCategory": notice.category.value,
        "submissionMethod": ["electronicSubmission"],
        "tenderPeriod": {
            "startDate": rfc3339(max(notice.documents_from, notice.published_at)),
            "endDate": rfc3339(notice.bid_deadline),
        },
        "documents": [
            {
                "id": str(doc.id),
                "documentType": "clarifications" if doc.amendment else "biddingDocuments",
                "title": doc.title,
                "description": f"SHA-256 {doc.sha256}, {doc.size} bytes",
                "url": base_url + doc.url,
                "datePublished": rfc3339(notice.published_at),
                "format": doc.media_type,
                "language": "zh",
            }
            for doc in notice.documents
        ],
        "amendments": [
            {
                "id": str(a.number),
                "date": rfc3339(a.issued_at),
                "rationale": a.title,
                "description": a.body
                + (
                    f"\n投标截止时间由 {rfc3339(a.old_deadline)} 顺延至 {rfc3339(a.new_deadline)}"
                    if a.new_deadline != a.old_deadline
                    else ""
                ),
                "amendsReleaseID": f"{notice.project}-notice-{notice.id}-{a.number - 1}",
                "releaseID": f"{notice.project}-notice-{notice.id}-{a.number}",
            }
            for a in notice.amendments
        ],
    }
    return {
        "ocid": f"{OCID_PREFIX}-{notice.project}",
        "id": f"{notice.project}-notice-{notice.id}-{len(notice.amendments)}{suffix}",
        "date": date,
        "tag": tags,
        "initiationType": "tender",
        "language": "zh",
        "parties": [
            {
                "id": notice.tenderer,
                "name": notice.tenderer_name,
                "roles": ["buyer", "procuringEntity"],
            }
        ],
        "buyer": {"id": notice.tenderer, "name": notice.tenderer_name},
        "tender": tender,
    }


def release_package(notice: NoticeDetail, *, base_url: str, published_date: str) -> OcdsPackage:
    """The package for one public notice; ``base_url`` without a trailing slash."""
    return OcdsPackage(
        uri=f"{base_url}/api/public/notices/{notice.id}/ocds",
        version="1.1",
        extensions=[LOTS_EXTENSION],
        published_date=published_date,
        publisher=OcdsPublisher(name=PUBLISHER),
        license="https://creativecommons.org/publicdomain/zero/1.0/",
        releases=[_release(notice, base_url)],
    )

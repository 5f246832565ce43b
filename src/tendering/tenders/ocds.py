"""A published notice as an Open Contracting Data Standard 1.1 release package.

One contracting process per project (``ocid`` = prefix + transaction code); each state of a
notice is one release: ``<project>-notice-<id>-<n>`` after ``n`` amendments, tagged
``tender`` first and ``tenderAmendment`` after. Amounts are yuan (OCDS ``Value.amount`` is a
number); fen that are not whole yuan become a two-decimal number, exact in JSON text.
Nothing about registrations goes here (no ``numberOfTenderers``, no ``tenderers``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tendering.core.clock import rfc3339
from tendering.tenders.models import NoticeStatus, ProcurementMethod
from tendering.tenders.schemas import NoticeDetail

__all__ = ["OCID_PREFIX", "release_package"]

# Register a prefix with the OCDS helpdesk for production; this one is the platform's own.
OCID_PREFIX = "ocds-tndrng"
PUBLISHER = "公共资源交易中心 Public Resource Trading Center"
_METHODS = {ProcurementMethod.OPEN: "open", ProcurementMethod.INVITED: "selective"}


def _amount(fen: int) -> int | float:
    whole, cents = divmod(fen, 100)
    return whole if cents == 0 else float(Decimal(fen) / 100)


def _release(notice: NoticeDetail, base_url: str) -> dict[str, Any]:
    last = notice.amendments[-1] if notice.amendments else None
    assert notice.published_at is not None
    tender: dict[str, Any] = {
        "id": f"{notice.project}-notice-{notice.id}",
        "title": notice.title,
        "description": notice.body,
        "status": "active" if notice.status == NoticeStatus.PUBLISHED else "complete",
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
            }
            for lot in notice.lot_details
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
        "id": f"{notice.project}-notice-{notice.id}-{len(notice.amendments)}",
        "date": rfc3339(last.issued_at if last else notice.published_at),
        "tag": ["tenderAmendment"] if last else ["tender"],
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


def release_package(notice: NoticeDetail, *, base_url: str, published_date: str) -> dict[str, Any]:
    """The package for one public notice; ``base_url`` without a trailing slash."""
    return {
        "uri": f"{base_url}/api/public/notices/{notice.id}/ocds",
        "version": "1.1",
        "publishedDate": published_date,
        "publisher": {"name": PUBLISHER},
        "license": "https://creativecommons.org/publicdomain/zero/1.0/",
        "releases": [_release(notice, base_url)],
    }

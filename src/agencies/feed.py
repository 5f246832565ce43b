"""An Atom feed (RFC 4287) of agencies' grade changes: pure, no I/O.

    body = atom_feed(entries, base_url="https://ggzy.example.gov.cn", now=now)

Each entry's id is a ``tag:`` URI of the change (stable across runs); ``updated`` is when it
was recorded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from xml.sax.saxutils import escape, quoteattr

from tendering.core.clock import rfc3339

__all__ = ["FeedEntry", "atom_feed"]

ATOM_NS = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True, slots=True)
class FeedEntry:
    change_id: int
    agency: str
    agency_name: str
    old_grade: str | None
    new_grade: str
    score: int
    on_date: date
    at: datetime


def _title(entry: FeedEntry) -> str:
    if entry.old_grade is None:
        return f"{entry.agency_name} 首次评定为{entry.new_grade}级 ({entry.score}分)"
    return (
        f"{entry.agency_name} 诚信等级由{entry.old_grade}级调整为{entry.new_grade}级"
        f" ({entry.score}分)"
    )


def atom_feed(entries: Sequence[FeedEntry], *, base_url: str, now: datetime) -> bytes:
    """The feed document, UTF-8; ``updated`` is the newest entry's time, else ``now``."""
    base = base_url.rstrip("/")
    updated = max((e.at for e in entries), default=now)
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<feed xmlns="{ATOM_NS}">',
        "<title>代理机构诚信等级变动 Agency grade changes</title>",
        f"<id>{escape(base)}/api/public/agencies/credit/feed.atom</id>",
        f'<link rel="self" href={quoteattr(base + "/api/public/agencies/credit/feed.atom")}/>',
        f"<updated>{rfc3339(updated)}</updated>",
        "<author><name>公共资源交易中心</name></author>",
    ]
    for e in entries:
        link = f"{base}/api/public/agencies/credit/{e.agency}"
        parts += [
            "<entry>",
            f"<id>tag:agencies,{e.on_date.isoformat()}:grade-change/{e.change_id}</id>",
            f"<title>{escape(_title(e))}</title>",
            f"<link href={quoteattr(link)}/>",
            f"<updated>{rfc3339(e.at)}</updated>",
            f"<summary>{escape(f'{e.agency} {e.on_date.isoformat()}: {_title(e)}')}</summary>",
            "</entry>",
        ]
    parts.append("</feed>")
    return "\n".join(parts).encode()

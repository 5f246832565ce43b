"""An Atom (RFC 4287) feed of newly published notices and amendments."""

from __future__ import annotations

from datetime import datetime
from xml.etree import ElementTree as ET

from tendering.core.clock import rfc3339
from tendering.tenders.queries import FeedEntry

__all__ = ["ATOM_NS", "atom_feed"]

ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_TITLE = "公共资源交易中心 招标公告 Tender notices"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def _entry(feed: ET.Element, entry: FeedEntry, base_url: str) -> None:
    node = _sub(feed, "entry")
    link = f"{base_url}/api/public/notices/{entry.notice_id}"
    amendment = entry.amendment
    if amendment is None:
        _sub(node, "id", f"{base_url}/notices/{entry.notice_id}")
        _sub(node, "title", f"【招标公告】{entry.notice_title}")
        summary = f"{entry.project}: {entry.notice_title}"
    else:
        _sub(node, "id", f"{base_url}/notices/{entry.notice_id}/amendments/{amendment.number}")
        kind = "澄清" if amendment.kind == "clarification" else "修改"
        _sub(node, "title", f"【{kind}公告】{entry.notice_title}: {amendment.title}")
        summary = amendment.body
        if amendment.new_deadline != amendment.old_deadline:
            summary += (
                f"\n投标截止时间顺延: {rfc3339(amendment.old_deadline)} → "
                f"{rfc3339(amendment.new_deadline)}; 开标时间 {rfc3339(amendment.new_opening)}"
            )
    _sub(node, "updated", rfc3339(entry.at))
    _sub(node, "published", rfc3339(entry.at))
    _sub(node, "link", href=link, rel="alternate", type="application/json")
    _sub(node, "link", href=f"{link}/ocds", rel="related", type="application/json")
    _sub(node, "summary", summary)


def atom_feed(entries: list[FeedEntry], *, base_url: str, now: datetime) -> bytes:
    """The feed document (UTF-8 XML); ``updated`` is the newest entry's time, else ``now``."""
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    _sub(feed, "id", f"{base_url}/api/public/feed.atom")
    _sub(feed, "title", FEED_TITLE)
    _sub(feed, "updated", rfc3339(entries[0].at if entries else now))
    _sub(feed, "link", href=f"{base_url}/api/public/feed.atom", rel="self")
    author = _sub(feed, "author")
    _sub(author, "name", "公共资源交易中心")
    for entry in entries:
        _entry(feed, entry, base_url)
    document: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return document

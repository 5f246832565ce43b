"""Importing the pool from a CSV export: all rows checked, then written in one go.

Nothing is half imported: by default any rejected row means nothing is written and the
report lists every rejected row with its reason; ``accept_valid=True`` writes the valid rows
and reports the rest. Rows are written with PostgreSQL ``COPY`` into a staging table and
merged by ``id_tag`` (a person is found again by the keyed tag of the ID number): 100,000
rows are a normal city pool. An expert already in the pool is updated; an employer that
changed is kept as a former one (ended today), since avoidance looks back 3 years.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from experts.csvfile import ExpertRow, Rejection, parse_csv, specialty_keys
from experts.personal import Personal, id_tag, mask_id, seal_personal
from tendering.core.audit import GLOBAL, record
from tendering.core.auth.actor import Actor
from tendering.core.errors import Inconsistent
from tendering.core.secrecy import Secrecy

__all__ = ["ImportReport", "import_experts"]

_STAGE_COLUMNS = (
    "code",
    "name",
    "id_tag",
    "id_masked",
    "personal",
    "employer",
    "specialties",
    "specialty_keys",
    "region",
    "title",
    "unavailable",
    "status",
    "suspended_until",
)
_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS expert_stage (
  code text, name text, id_tag text, id_masked text, personal text, employer text,
  specialties varchar(20)[], specialty_keys varchar(20)[], region text, title text,
  unavailable date[], status text, suspended_until date
) ON COMMIT DROP;
CREATE TEMP TABLE IF NOT EXISTS expert_stage_former (
  id_tag text, organization text, started_on date, ended_on date
) ON COMMIT DROP;
TRUNCATE expert_stage, expert_stage_former
"""
_MERGE = (
    """INSERT INTO expert (code, name, id_tag, id_masked, personal, employer, specialties,
         specialty_keys, region, title, unavailable, status, suspended_until)
       SELECT coalesce(code, 'E' || upper(substr(id_tag, 1, 12))), name, id_tag, id_masked,
         personal, employer, specialties, specialty_keys, region, title, unavailable, status,
         suspended_until FROM expert_stage
       ON CONFLICT (id_tag) DO UPDATE SET name = EXCLUDED.name, id_masked = EXCLUDED.id_masked,
         personal = EXCLUDED.personal, employer = EXCLUDED.employer,
         specialties = EXCLUDED.specialties, specialty_keys = EXCLUDED.specialty_keys,
         region = EXCLUDED.region, title = EXCLUDED.title, unavailable = EXCLUDED.unavailable,
         status = EXCLUDED.status, suspended_until = EXCLUDED.suspended_until,
         updated_at = now()""",
    """UPDATE expert e SET code = s.code FROM expert_stage s
       WHERE s.code IS NOT NULL AND e.id_tag = s.id_tag AND e.code <> s.code""",
    # An employer that changed ends today; the new one starts (its start unknown).
    """UPDATE expert_employment m SET ended_on = current_date
       FROM expert e JOIN expert_stage s ON s.id_tag = e.id_tag
       WHERE m.expert_id = e.id AND m.ended_on IS NULL AND m.organization <> s.employer""",
    """INSERT INTO expert_employment (expert_id, organization)
       SELECT e.id, s.employer FROM expert e JOIN expert_stage s ON s.id_tag = e.id_tag
       WHERE NOT EXISTS (SELECT 1 FROM expert_employment m WHERE m.expert_id = e.id
                         AND m.ended_on IS NULL AND m.organization = s.employer)""",
    """INSERT INTO expert_employment (expert_id, organization, started_on, ended_on)
       SELECT DISTINCT e.id, f.organization, f.started_on, f.ended_on
       FROM expert_stage_former f JOIN expert e ON e.id_tag = f.id_tag
       WHERE NOT EXISTS (SELECT 1 FROM expert_employment m WHERE m.expert_id = e.id
         AND m.organization = f.organization
         AND m.started_on IS NOT DISTINCT FROM f.started_on
         AND m.ended_on IS NOT DISTINCT FROM f.ended_on)""",
)
_HELD = text("SELECT code, id_tag FROM expert WHERE code = ANY(:codes)")


@dataclass(frozen=True, slots=True)
class ImportReport:
    encoding: str
    rows: int  # data rows read
    imported: int  # written (new or updated)
    rejected: list[Rejection] = field(default_factory=list)
    sha256: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "encoding": self.encoding,
            "rows": self.rows,
            "imported": self.imported,
            "rejected": [r.to_json() for r in self.rejected],
            "sha256": self.sha256,
        }


async def _codes_held_by_others(
    session: AsyncSession, rows: list[ExpertRow], tags: list[str]
) -> list[Rejection]:
    wanted = {r.code: (r, t) for r, t in zip(rows, tags, strict=True) if r.code}
    if not wanted:
        return []
    held = await session.execute(_HELD, {"codes": list(wanted)})
    return [
        Rejection(
            wanted[code][0].line,
            "code",
            f"专家编号 {code} 已属于另一位专家 (the code belongs to another expert)",
        )
        for code, tag in held.all()
        if wanted[code][1] != tag
    ]


def _record(row: ExpertRow, tag: str, secrecy: Secrecy) -> tuple[object, ...]:
    return (
        row.code,
        row.name,
        tag,
        mask_id(row.id_number),
        seal_personal(secrecy, tag, Personal(row.id_number, row.phone)),
        row.employer,
        list(row.specialties),
        specialty_keys(row.specialties),
        row.region,
        row.title,
        list(row.unavailable),
        row.status,
        row.suspended_until,
    )


async def _write(
    session: AsyncSession, rows: list[ExpertRow], tags: list[str], secrecy: Secrecy
) -> None:
    for statement in _STAGE.split(";"):
        await session.execute(text(statement))
    raw = await (await session.connection()).get_raw_connection()
    connection = raw.driver_connection
    if connection is None:
        raise Inconsistent("connection is missing")
    await connection.copy_records_to_table(
        "expert_stage",
        records=[_record(r, t, secrecy) for r, t in zip(rows, tags, strict=True)],
        columns=_STAGE_COLUMNS,
    )
    former = [
        (t, org, start, end)
        for r, t in zip(rows, tags, strict=True)
        for org, start, end in r.former_employers
    ]
    if former:
        await connection.copy_records_to_table(
            "expert_stage_former",
            records=former,
            columns=("id_tag", "organization", "started_on", "ended_on"),
        )
    for statement in _MERGE:
        await session.execute(text(statement))


async def import_experts(
    session: AsyncSession, *, secrecy: Secrecy, raw: bytes, actor: Actor, accept_valid: bool = False
) -> ImportReport:
    """Check every row; write all of them, or (any rejected) none unless ``accept_valid``."""
    parsed = parse_csv(raw)
    digest = hashlib.sha256(raw).hexdigest()
    tags = [id_tag(secrecy, r.id_number) for r in parsed.rows]
    rejected = parsed.rejected + await _codes_held_by_others(session, parsed.rows, tags)
    total = len(parsed.rows) + sum(1 for r in parsed.rejected if r.line > 1)
    if rejected and not accept_valid:
        return ImportReport(parsed.encoding, total, 0, sorted(rejected, key=_line), digest)
    struck = {r.line for r in rejected}
    keep = [(r, t) for r, t in zip(parsed.rows, tags, strict=True) if r.line not in struck]
    if keep:
        await _write(session, [r for r, _ in keep], [t for _, t in keep], secrecy)
        await record(
            session,
            stream=GLOBAL,
            action="experts.imported",
            actor=actor,
            payload={"sha256": digest, "imported": len(keep), "rejected": len(rejected)},
        )
    return ImportReport(parsed.encoding, total, len(keep), sorted(rejected, key=_line), digest)


def _line(rejection: Rejection) -> tuple[int, str]:
    return (rejection.line, rejection.field)

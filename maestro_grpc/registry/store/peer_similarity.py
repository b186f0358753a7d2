"""RecommendArtifacts' peer selection, scored by the database: which projects are most
like this one, so that only those few profiles ever reach Python.

A peer's keywords are its label values split at commas and trimmed (empty parts
dropped), its current team's skills and the tags of the artifacts it used, all
lower-cased; its used artifacts are those its usages name. Similarity is
0.5 x Jaccard(keywords) + 0.5 x Jaccard(used artifacts), a Jaccard of an empty
set being 0: what `recommend.py` computed in Python over every profile before.
Ties go to the greater project id, as Python's sort of (similarity, id) did.

One statement with two honest implementations: PostgreSQL splits and unnests
with `regexp_split_to_table`, `jsonb_each_text` and `unnest`; SQLite with
`json_each` and a recursive split. Lower-casing is the database's: PostgreSQL's
follows its collation (Unicode under a UTF-8 one), SQLite's `lower()` folds
ASCII only, so there a non-ASCII keyword matches only in the case it was written.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Text, Uuid

from maestro_grpc.store.db import Database

# Python's str.strip() for the usual whitespace.
_PG_BLANKS = "E' \\t\\r\\n'"
_SQLITE_BLANKS = "' ' || char(9) || char(13) || char(10)"

_SCORE = """
scored AS (
  SELECT peers.id AS id,
         0.5 * CASE WHEN :own_words > 0 AND COALESCE(kw.total, 0) > 0
                    THEN CAST(kw.shared AS {real}) / (:own_words + kw.total - kw.shared)
                    ELSE 0 END
       + 0.5 * CASE WHEN :own_used > 0 AND COALESCE(used.total, 0) > 0
                    THEN CAST(used.shared AS {real}) / (:own_used + used.total - used.shared)
                    ELSE 0 END AS similarity
    FROM peers
    LEFT JOIN kw ON kw.project_id = peers.id
    LEFT JOIN used ON used.project_id = peers.id
)
SELECT id, similarity FROM scored
 WHERE similarity > 0
 ORDER BY similarity DESC, id DESC
 LIMIT :limit
"""

_USED = """
used AS (
  SELECT u.project_id AS project_id,
         COUNT(DISTINCT u.artifact_id) AS total,
         COUNT(DISTINCT CASE WHEN u.artifact_id IN (
             SELECT o.artifact_id FROM artifact_usages o WHERE o.project_id = :own)
           THEN u.artifact_id END) AS shared
    FROM artifact_usages u JOIN peers ON peers.id = u.project_id
   GROUP BY u.project_id
)"""

_PEERS = """
peers AS (
  SELECT id FROM projects WHERE id <> :own ORDER BY update_time DESC, id DESC LIMIT :window
)"""

_PG_SCORE = _SCORE.format(real="DOUBLE PRECISION")
_SQLITE_SCORE = _SCORE.format(real="REAL")

POSTGRESQL = f"""
WITH {_PEERS},
words AS (
  SELECT p.id AS project_id, lower(btrim(part, {_PG_BLANKS})) AS word
    FROM projects p JOIN peers ON peers.id = p.id
    CROSS JOIN LATERAL jsonb_each_text(p.labels) AS l(key, value)
    CROSS JOIN LATERAL regexp_split_to_table(l.value, ',') AS part
   WHERE btrim(part, {_PG_BLANKS}) <> ''
  UNION
  SELECT m.project_id, lower(skill)
    FROM team_members m JOIN peers ON peers.id = m.project_id
    CROSS JOIN LATERAL unnest(m.skills) AS skill
   WHERE m.leave_time IS NULL
  UNION
  SELECT u.project_id, lower(tag)
    FROM artifact_usages u JOIN peers ON peers.id = u.project_id
    JOIN artifacts a ON a.id = u.artifact_id
    CROSS JOIN LATERAL unnest(a.tags) AS tag
),
kw AS (
  SELECT project_id, COUNT(*) AS total,
         COUNT(*) FILTER (WHERE word = ANY(:words)) AS shared
    FROM words GROUP BY project_id
),
{_USED},
{_PG_SCORE}"""

SQLITE = f"""
WITH RECURSIVE {_PEERS},
label_values AS (
  SELECT p.id AS project_id, CAST(l.value AS TEXT) || ',' AS rest
    FROM projects p JOIN peers ON peers.id = p.id, json_each(p.labels) AS l
),
parts AS (
  SELECT project_id, substr(rest, 1, instr(rest, ',') - 1) AS part,
         substr(rest, instr(rest, ',') + 1) AS rest
    FROM label_values
  UNION ALL
  SELECT project_id, substr(rest, 1, instr(rest, ',') - 1), substr(rest, instr(rest, ',') + 1)
    FROM parts WHERE rest <> ''
),
words AS (
  SELECT project_id, lower(trim(part, {_SQLITE_BLANKS})) AS word
    FROM parts WHERE trim(part, {_SQLITE_BLANKS}) <> ''
  UNION
  SELECT m.project_id, lower(s.value)
    FROM team_members m JOIN peers ON peers.id = m.project_id, json_each(m.skills) AS s
   WHERE m.leave_time IS NULL
  UNION
  SELECT u.project_id, lower(t.value)
    FROM artifact_usages u JOIN peers ON peers.id = u.project_id
    JOIN artifacts a ON a.id = u.artifact_id, json_each(a.tags) AS t
),
kw AS (
  SELECT project_id, COUNT(*) AS total,
         SUM(CASE WHEN word IN (SELECT value FROM json_each(:words)) THEN 1 ELSE 0 END)
           AS shared
    FROM words GROUP BY project_id
),
{_USED},
{_SQLITE_SCORE}"""


async def similar(
    db: Database,
    project_id: uuid.UUID,
    words: Sequence[str],
    used: int,
    *,
    window: int,
    limit: int,
) -> list[tuple[float, uuid.UUID]]:
    """(similarity, project id) of the `limit` most similar peers among the `window` most
    recently updated projects other than `project_id`, most similar first."""
    postgres = db.dialect == "postgresql"
    statement = text(POSTGRESQL if postgres else SQLITE).bindparams(
        bindparam("own", project_id, type_=Uuid()),
        bindparam("words", list(words), type_=ARRAY(Text()))
        if postgres
        else bindparam("words", json.dumps(list(words))),
        bindparam("own_words", len(words)),
        bindparam("own_used", used),
        bindparam("window", window),
        bindparam("limit", limit),
    )
    async with db.read() as conn:
        rows = (await conn.execute(statement)).all()
    return [(float(r.similarity), _uuid(r.id)) for r in rows]


def _uuid(value: object) -> uuid.UUID:
    # text() does not know the column's type: asyncpg answers a UUID, SQLite its hex.
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))

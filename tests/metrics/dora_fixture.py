"""A hand-worked DORA fixture: four weeks of March 2026 (window Mon 2 Mar - Mon 30 Mar).

Worked by hand (see test_dora.py for the expected figures):

production deployments in the window (D6 failed, S1 is staging, D0 before):
  D1 Mon 2 Mar 10:00 ok      ships PR#1 (c1, c2; first commit Sun 1 Mar 10:00) -> lead 24 h
  D2 Tue 3 Mar 15:00 ok      ships c3 (authored 3 Mar 09:00)                   -> lead 6 h
  D3 Tue 3 Mar 18:00 ok      ships c4 (authored 20 Feb 18:00)                  -> lead 264 h
  D4 Tue 10 Mar 09:00 rolled back, ships PR#2 (c5; first commit 9 Mar 09:00)   -> lead 24 h
  D5 Tue 17 Mar 12:00 ok     ships c6 (authored 17 Mar 11:00)                  -> lead 1 h
deployment days 2, 3, 10, 17 March; per week [2, 1, 1, 0]: median (lower) 1
lead times [1, 6, 24, 24, 264] h: median 24 h
incidents: I1 (caused by D1, 12:00-12:30) -> 2.5 h; I2 (no link, 3 Mar 20:00 - 4 Mar
  02:00: last deployment before is D3 at 18:00) -> 8 h; I3 (no link, 18 Mar, open: D5);
  I4 staging and I5 (before the window, D0) do not count
failed: D1, D3, D5 (incidents), D4 (rolled back): 4 of 5 = 0.8
recovery [2.5, 8] h: median 5.25 h
"""

from __future__ import annotations

from datetime import UTC, datetime

from maestro.metrics.v1 import process_event_pb2 as pe
from tests.metrics.helpers import commit, deployment, incident, pull_request, sha

START = datetime(2026, 3, 2, tzinfo=UTC)
END = datetime(2026, 3, 30, tzinfo=UTC)
C = {name: sha(i) for i, name in enumerate(["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7"])}


def events(project: str) -> list[pe.ProcessEvent]:
    rolled, failed = pe.DEPLOYMENT_STATUS_ROLLED_BACK, pe.DEPLOYMENT_STATUS_FAILED
    merged = pe.PULL_REQUEST_STATE_MERGED
    return [
        deployment(project, "D0", "2026-02-27T12:00:00", [C["c0"]]),
        deployment(project, "D1", "2026-03-02T10:00:00", [C["c1"], C["c2"]]),
        deployment(project, "D2", "2026-03-03T15:00:00", [C["c3"]]),
        deployment(project, "D3", "2026-03-03T18:00:00", [C["c4"]]),
        deployment(project, "D4", "2026-03-10T09:00:00", [C["c5"]], status=rolled),
        deployment(project, "D5", "2026-03-17T12:00:00", [C["c6"]]),
        deployment(project, "D6", "2026-03-25T08:00:00", [C["c7"]], status=failed),
        deployment(project, "S1", "2026-03-05T08:00:00", [C["c7"]], environment="staging"),
        pull_request(
            project,
            1,
            state=merged,
            opened="2026-03-01T11:00:00",
            merged="2026-03-02T09:00:00",
            first_commit="2026-03-01T10:00:00",
            shas=(C["c1"], C["c2"]),
        ),
        pull_request(
            project,
            2,
            state=merged,
            opened="2026-03-09T10:00:00",
            merged="2026-03-10T08:00:00",
            first_commit="2026-03-09T09:00:00",
            merge_sha=C["c5"],
        ),
        commit(project, C["c1"], "2026-03-01T10:00:00"),
        commit(project, C["c3"], "2026-03-03T09:00:00"),
        commit(project, C["c4"], "2026-02-20T18:00:00"),
        commit(project, C["c6"], "2026-03-17T11:00:00"),
        incident(project, "I1", "2026-03-02T12:00:00", "2026-03-02T12:30:00", caused_by="D1"),
        incident(project, "I2", "2026-03-03T20:00:00", "2026-03-04T02:00:00"),
        incident(project, "I3", "2026-03-18T00:00:00"),
        pe.ProcessEvent(
            project_id=project,
            incident=pe.Incident(
                incident_id="I4",
                open_time=commit(project, C["c0"], "2026-03-05T00:00:00").commit.author_time,
                environment="staging",
            ),
        ),
        incident(project, "I5", "2026-03-01T00:00:00", "2026-03-01T05:00:00"),
    ]

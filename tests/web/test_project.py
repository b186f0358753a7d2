"""Page 3, projects, in a real browser: filter the list, open a project, read its team,
outcome and figures, and watch a chart gain a point while the agent streams."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from maestro.metrics.v1 import metric_pb2 as mp
from maestro.metrics.v1 import metrics_service_pb2 as ms
from maestro.metrics.v1 import metrics_service_pb2_grpc as msg
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from tests.agent.live import agent
from tests.helpers import ts
from tests.web import seed
from tests.web.conftest import Maestro, check_page, sign_in


def member(maestro: Maestro, project_id: str, name: str, **fields: object) -> pp.TeamMember:
    request = rs.AddTeamMemberRequest(
        project_id=project_id,
        team_member=pp.TeamMember(person_id=name, display_name=name, **fields),  # type: ignore[arg-type]
    )
    added: pp.TeamMember = maestro.registry.AddTeamMember(
        request, metadata=maestro.auth
    ).team_member
    return added


def test_a_project_at_a_glance_and_live(page: Page, maestro: Maestro, tmp_path: Path) -> None:
    w = seed.word()
    running = seed.project(
        maestro,
        f"churn-{w}",
        status=pp.PROJECT_STATUS_ACTIVE,
        labels={"team": w},
        description="predict who leaves",
    )
    done = seed.project(
        maestro, f"pricing-{w}", status=pp.PROJECT_STATUS_COMPLETED, labels={"team": w}
    )
    maestro.registry.UpdateProjectSuccess(
        rs.UpdateProjectSuccessRequest(
            project_id=done.id,
            success=pp.ProjectSuccess(succeeded=True, score=0.8, business_impact="+3% margin"),
        ),
        metadata=maestro.auth,
    )
    member(
        maestro,
        running.id,
        f"ada-{w}",
        role=pp.TEAM_ROLE_ML_ENGINEER,
        skills=["python", "sql"],
        allocation=0.5,
        years_experience=6,
    )
    gone = member(maestro, running.id, f"bob-{w}", role=pp.TEAM_ROLE_DATA_SCIENTIST)
    maestro.registry.RemoveTeamMember(
        rs.RemoveTeamMemberRequest(team_member_id=gone.id), metadata=maestro.auth
    )
    now = datetime.now(UTC)
    metrics = msg.MetricsServiceStub(maestro._channel)  # type: ignore[arg-type]
    points = [
        mp.MetricPoint(
            project_id=running.id,
            name="train.loss",
            value=v,
            time=ts(now - timedelta(minutes=10 - i)),
        )
        for i, v in enumerate([0.9, 0.7, 0.6, 0.5, 0.45])
    ]
    answer = metrics.RecordMetrics(
        ms.RecordMetricsRequest(batch=mp.MetricBatch(points=points)), metadata=maestro.auth
    )
    assert list(answer.rejected) == []  # type: ignore[attr-defined]

    sign_in(page, maestro, "/projects")
    page.get_by_label("Labels").fill(f"team={w}")
    page.get_by_label("Status").select_option("active")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table.projects tbody tr")
    expect(rows).to_have_count(1)
    page.get_by_label("Status").select_option("")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text=f"pricing-{w}")).to_contain_text("succeeded (0.80)")
    check_page(page, f"projects-{maestro.store}")

    page.get_by_role("link", name=f"churn-{w}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"churn-{w}")
    team = page.locator("section", has=page.get_by_role("heading", name="Team"))
    expect(team.locator("tbody tr")).to_have_count(2)
    expect(team.locator("tr", has_text=f"ada-{w}")).to_contain_text("50%")
    expect(team.locator("tr", has_text=f"ada-{w}")).to_contain_text("python, sql")
    expect(team.locator("tr.former")).to_contain_text(f"bob-{w}")
    expect(page.get_by_text("Not known yet.")).to_be_visible()
    # The chart is drawn, its figures beside it, and it is live.
    count = page.locator(".live-count[data-metric='train.loss']")
    expect(count).to_have_text("5")
    expect(page.locator("#chart-0 canvas")).to_have_count(1)
    figures = page.locator("table.figures").first
    expect(figures).to_contain_text("0.6")
    expect(page.locator("#live-status")).to_have_text("(live)")
    check_page(page, f"project-{maestro.store}")

    # The agent streams a point: the chart gains it, with no reload.
    line = json.dumps({"name": "train.loss", "value": 0.4})
    streaming = agent(
        maestro.server.address,
        tmp_path / "agent",
        "stream",
        "--project",
        running.id,
        stdin=line + "\n",
        MAESTRO_TOKEN=maestro.token,
    )
    _out, err = streaming.communicate(line + "\n", timeout=60)
    assert streaming.returncode == 0, err
    expect(count).to_have_text("6")

    # Zoom by dragging across the chart, and back.
    over = page.locator("#chart-0 .u-over")
    box = over.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 20, box["y"] + 50)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 50, steps=5)
    page.mouse.up()
    page.get_by_role("button", name="Reset zoom").click()

    # No meta-model is trained on this server: asking for a prediction says so.
    page.get_by_role("button", name="Predict now").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("No prediction yet")

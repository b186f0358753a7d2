"""ListAssignments through the real server on both stores: every assigned unit, by unit
id, in keyset pages, of one variant or all, and only the caller's projects' units."""

from __future__ import annotations

import uuid

import grpc
import grpc.aio

from maestro.prediction.v1 import experiment_pb2 as ep
from maestro.prediction.v1 import prediction_service_pb2 as pb
from maestro.prediction.v1 import prediction_service_pb2_grpc as pbg
from tests.access.conftest import Secured, bearer
from tests.access.conftest import secured as secured
from tests.helpers import expect_error, expect_invalid
from tests.prediction.conftest import PredictionStub, RegistryStub, create_project
from tests.prediction.test_experiments import create


async def _all(
    prediction: PredictionStub, request: pb.ListAssignmentsRequest, **kw: object
) -> list[ep.Assignment]:
    found: list[ep.Assignment] = []
    while True:
        page = await prediction.ListAssignments(request)
        found.extend(page.assignments)
        if not page.next_page_token:
            return found
        request.page_token = page.next_page_token


async def test_every_unit_in_pages_by_unit_id(
    prediction: PredictionStub, registry: RegistryStub
) -> None:
    made = await create(prediction, name=f"listed-{uuid.uuid4().hex[:6]}")
    variants: dict[str, str] = {}
    for n in range(7):
        project = await create_project(registry, f"unit-{n}-{uuid.uuid4().hex[:6]}")
        got = await prediction.AssignVariant(
            pb.AssignVariantRequest(experiment_id=made.id, unit_id=project)
        )
        variants[project] = got.assignment.variant

    first = await prediction.ListAssignments(
        pb.ListAssignmentsRequest(experiment_id=made.id, page_size=3)
    )
    assert len(first.assignments) == 3
    assert first.total_size == 7
    assert first.next_page_token
    every = await _all(prediction, pb.ListAssignmentsRequest(experiment_id=made.id, page_size=3))
    assert [a.unit_id for a in every] == sorted(variants)
    assert {a.unit_id: a.variant for a in every} == variants
    assert all(a.project_id == a.unit_id and a.assign_time.seconds for a in every)

    # A unit assigned between two pages takes its place; no page shifts.
    late = await create_project(registry, f"late-{uuid.uuid4().hex[:6]}")
    await prediction.AssignVariant(pb.AssignVariantRequest(experiment_id=made.id, unit_id=late))
    rest = await _all(
        prediction,
        pb.ListAssignmentsRequest(
            experiment_id=made.id, page_size=3, page_token=first.next_page_token
        ),
    )
    shown = [a.unit_id for a in first.assignments]
    beyond = sorted(u for u in [*variants, late] if u > shown[-1])
    assert [a.unit_id for a in rest] == beyond  # the late unit, if it sorts after page 1

    control = await _all(
        prediction, pb.ListAssignmentsRequest(experiment_id=made.id, variant="control")
    )
    expected = sorted(u for u, v in variants.items() if v == "control")
    assert [a.unit_id for a in control if a.unit_id != late] == expected
    assert {a.variant for a in control} <= {"control"}


async def test_bad_requests_name_their_field(prediction: PredictionStub) -> None:
    made = await create(prediction, name=f"bad-{uuid.uuid4().hex[:6]}")
    await expect_invalid(
        prediction.ListAssignments(pb.ListAssignmentsRequest(experiment_id="nope")),
        "experiment_id",
    )
    await expect_invalid(
        prediction.ListAssignments(pb.ListAssignmentsRequest(experiment_id=made.id, variant="zz")),
        "variant",
    )
    await expect_invalid(
        prediction.ListAssignments(
            pb.ListAssignmentsRequest(experiment_id=made.id, page_token="forged")
        ),
        "page_token",
    )
    await expect_invalid(
        prediction.ListAssignments(pb.ListAssignmentsRequest(experiment_id=made.id, page_size=-1)),
        "page_size",
    )
    await expect_error(
        prediction.ListAssignments(pb.ListAssignmentsRequest(experiment_id=str(uuid.uuid4()))),
        grpc.StatusCode.NOT_FOUND,
    )


async def test_a_scoped_reader_sees_its_projects_units_only(secured: Secured) -> None:
    prediction = pbg.PredictionServiceStub(secured.channel)
    admin = bearer(secured.admin)
    made = (
        await prediction.CreateExperiment(
            pb.CreateExperimentRequest(
                experiment=ep.Experiment(
                    name="scoped",
                    variants=[ep.Variant(name="a", weight=1), ep.Variant(name="b", weight=1)],
                    outcome_metric="success",
                )
            ),
            metadata=admin,
        )
    ).experiment
    mine, theirs = await secured.project("mine"), await secured.project("theirs")
    for unit in (mine, theirs):
        await prediction.AssignVariant(
            pb.AssignVariantRequest(experiment_id=made.id, unit_id=unit), metadata=admin
        )
    reader, _ = await secured.token("reader", mine)
    seen = await prediction.ListAssignments(
        pb.ListAssignmentsRequest(experiment_id=made.id), metadata=bearer(reader)
    )
    assert [a.unit_id for a in seen.assignments] == [mine]
    assert seen.total_size == 1
    everyone = await prediction.ListAssignments(
        pb.ListAssignmentsRequest(experiment_id=made.id), metadata=admin
    )
    assert sorted(a.unit_id for a in everyone.assignments) == sorted([mine, theirs])

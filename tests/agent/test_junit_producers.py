"""Real JUnit XML from eight producers, counted as their producers mean them.

The expected values were written by hand from each file (see the README
beside the fixtures): per suite, the cases that passed, failed, errored and
were skipped, those that passed only on a rerun, the seconds, and the
timestamp (None where the file has no real one).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import pytest

from maestro_grpc.agent import junit

FIXTURES = Path(__file__).parent / "fixtures" / "junit"


class Expected(NamedTuple):
    passed: int
    failed: int
    errored: int
    skipped: int
    flaky: int
    seconds: float
    time: str | None  # ISO 8601 UTC, or None: unknown


EXPECTED: dict[str, dict[str, Expected]] = {
    # 10 cases (the summary says 15): skip and xfail are skipped, two failures.
    "pytest/python-xunit-pytest.xml": {
        "pytest": Expected(6, 2, 0, 2, 0, 0.019, "2025-11-15T16:51:49.548396+00:00"),
    },
    # One case that failed, then passed on a rerun: flaky, passed.
    "surefire/surefire-report.xml": {
        "io.sodadata.dependson.soda.integrations.msteams.MicrosoftTeamsCrudTest": Expected(
            1, 0, 0, 0, 1, 0.683, None
        ),
    },
    "gradle/spring-gradle-failure.xml": {
        "com.victor.paymentreporting.app.PowerDroidControllerTest": Expected(
            2, 1, 0, 0, 0, 2.638, "2026-05-28T22:31:02+00:00"
        ),
    },
    # Two suites that failed to run: one errored case each, dated 1970 (unknown).
    "jest-junit/jest-test-results.xml": {
        "libs/foo.spec.ts": Expected(0, 0, 1, 0, 0, 0.0, None),
        "libs/bar.spec.ts": Expected(0, 0, 1, 0, 0, 0.0, None),
    },
    # "Root Suite" and "Config files" list nothing and count nothing: no report.
    "mocha/mocha.xml": {
        "default config": Expected(1, 0, 0, 0, 0, 0.0, "2021-10-28T00:15:42+00:00"),
    },
    # package1 has no tests: no report.
    "go-junit-report/go-junit-report.xml": {
        "github.com/company/package2": Expected(1, 0, 0, 0, 0, 0.482, "2022-10-13T21:53:32+00:00"),
        "github.com/company/package3": Expected(1, 2, 0, 1, 0, 0.835, "2022-10-13T21:53:32+00:00"),
    },
    # test_failure_assert failed all three tries (one failure); test_flaky_mod_4
    # passed on its fourth (flaky). The suite has no time: its cases' sum. Its
    # timestamp is the enclosing <testsuites>' one.
    "cargo-nextest/nextest-tests-junit.xml": {
        "nextest-tests::basic": Expected(2, 1, 0, 0, 1, 0.012, "2024-01-09T07:50:12.664000+00:00"),
    },
    # The outer suite has two cases of its own and three nested suites: its
    # report is its own cases (their seconds, not the time that covers all).
    "phpunit/phpunit.xml": {
        "CLI Arguments": Expected(0, 2, 0, 0, 0, 0.132419, None),
        "PHPUnit\\Event\\CollectingDispatcherTest": Expected(2, 0, 0, 0, 0, 0.004256, None),
        "PHPUnit\\Event\\DeferringDispatcherTest": Expected(4, 0, 0, 0, 0, 0.002928, None),
        "PHPUnit\\Event\\DirectDispatcherTest": Expected(4, 0, 0, 0, 0, 0.000794, None),
    },
}


def test_every_producer_folder_is_expected() -> None:
    files = sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*.xml"))
    assert files == sorted(EXPECTED)
    assert len({name.split("/")[0] for name in files}) >= 8


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_reports_count_as_their_producers_mean(name: str) -> None:
    suites = junit.parse_file(FIXTURES / name)
    found = {
        s.name: Expected(
            s.passed,
            s.failed,
            s.errored,
            s.skipped,
            s.flaky,
            round(s.seconds, 6),
            s.time.astimezone(UTC).isoformat() if s.time else None,
        )
        for s in suites
    }
    assert len(found) == len(suites)
    assert found == EXPECTED[name]
    for suite in suites:
        assert suite.file_time is not None  # what dates a report with no timestamp


def test_an_unknown_timestamp_dates_the_report_by_its_file() -> None:
    path = FIXTURES / "jest-junit/jest-test-results.xml"
    mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    for suite in junit.parse_file(path):
        event = junit.report_event("p", suite, provider="github-actions", run_id="1", attempt=1)
        sent = event.test_report.time.ToDatetime(tzinfo=UTC)
        assert abs((sent - mtime).total_seconds()) < 1e-3
        assert event.test_report.errored == 1

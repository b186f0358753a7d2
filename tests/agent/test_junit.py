"""JUnit XML from real producers: pytest (run here) and Maven Surefire (its format)."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from datetime import UTC, datetime
from pathlib import Path

import pytest

from maestro_grpc.agent import junit

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def pytest_xml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pytest's own JUnit XML for a small module with every outcome."""
    out = tmp_path_factory.mktemp("junit") / "pytest.xml"
    module = tmp_path_factory.mktemp("mod") / "test_sample.py"
    module.write_text((FIXTURES / "sample_tests.py").read_text())
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", "/dev/null",
         f"--junitxml={out}", "-o", "junit_suite_name=unit", str(module)],
        capture_output=True, text=True, cwd=module.parent,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout  # one test fails on purpose
    return out


def test_pytest_report(pytest_xml: Path) -> None:
    [suite] = junit.parse_file(pytest_xml)
    assert suite.name == "unit"
    # test_passes, test_also_passes, TestGroup.test_in_class pass; test_fails
    # fails; test_errors errors in its fixture; skip and xfail are skipped.
    assert (suite.passed, suite.failed, suite.errored, suite.skipped) == (3, 1, 1, 2)
    assert sorted(suite.failing) == ["test_sample.test_errors", "test_sample.test_fails"]
    assert suite.seconds > 0
    assert suite.time is not None
    assert suite.time.tzinfo is not None


def test_surefire_reports() -> None:
    files = sorted(FIXTURES.glob("TEST-*.xml"))
    suites = {s.name: s for s in junit.collect(files)}
    calc = suites["com.acme.CalculatorTest"]
    # The flaky test passed on a rerun; the skipped one does not count as run.
    assert (calc.passed, calc.failed, calc.errored, calc.skipped) == (3, 1, 1, 1)
    assert calc.failing == [
        "com.acme.CalculatorTest.dividesByZero",
        "com.acme.CalculatorTest.parsesHex",
    ]
    assert calc.seconds == pytest.approx(1.234)
    parser = suites["com.acme.ParserTest"]
    # A test that failed every rerun is a failure.
    assert (parser.passed, parser.failed, parser.errored, parser.skipped) == (2, 1, 0, 0)
    merged = junit.collect(files, suite_name="acme-unit")
    assert len(merged) == 1
    assert (merged[0].passed, merged[0].failed, merged[0].errored) == (5, 2, 1)
    assert merged[0].seconds == pytest.approx(1.284)


def test_report_event_carries_everything(pytest_xml: Path) -> None:
    [suite] = junit.parse_file(pytest_xml)
    event = junit.report_event("p", suite, provider="github-actions", run_id="42", attempt=2)
    report = event.test_report
    assert (report.provider, report.run_id, report.attempt, report.suite) == (
        "github-actions", "42", 2, "unit",
    )  # fmt: skip
    assert (report.passed, report.failed, report.errored, report.skipped) == (3, 1, 1, 2)
    assert report.duration.ToTimedelta().total_seconds() == pytest.approx(suite.seconds, abs=1e-6)
    assert sorted(report.failing_tests) == sorted(suite.failing)
    assert report.time.seconds > 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("<testsuite><testcase name='a'>", "not well-formed"),
        ("<html><body/></html>", "root element is <html>"),
    ],
)
def test_bad_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.xml"
    path.write_text(content)
    with pytest.raises(junit.JUnitError, match=message):
        junit.parse_file(path)
    with pytest.raises(junit.JUnitError, match=r"missing\.xml"):
        junit.parse_file(tmp_path / "missing.xml")


def test_nested_suites_and_counts_without_cases(tmp_path: Path) -> None:
    path = tmp_path / "nested.xml"
    path.write_text(
        """<testsuites>
          <testsuite name="outer">
            <testsuite name="inner" tests="10" failures="2" errors="1" skipped="3" time="2.5"
                       timestamp="2025-01-31T12:00:00"/>
            <testsuite name="cases" time="bogus">
              <testcase name="t1" classname="c" time="0.5"/>
              <testcase name="t2" time="oops"><failure/></testcase>
            </testsuite>
          </testsuite>
        </testsuites>"""
    )
    suites = {s.name: s for s in junit.parse_file(path)}
    assert set(suites) == {"inner", "cases"}
    inner = suites["inner"]
    assert (inner.passed, inner.failed, inner.errored, inner.skipped) == (4, 2, 1, 3)
    assert inner.seconds == 2.5
    assert inner.time is not None
    assert inner.time.isoformat() == "2025-01-31T12:00:00+00:00"
    cases = suites["cases"]
    assert (cases.passed, cases.failed) == (1, 1)
    assert cases.failing == ["t2"]
    assert cases.seconds == 0.5  # an unreadable suite time: its cases' sum


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        ("1.5", 1.5),
        ("0,5", 0.5),  # a comma decimal (de_DE, fr_FR, ...): not 5 seconds
        ("12,25", 12.25),
        ("1,234", 1.234),  # a lone comma is a decimal comma
        ("1,234.5", 1234.5),
        ("1.234,5", 1234.5),
        ("1,234,567", 1234567.0),
        ("1 234,5", 1234.5),
        ("1\u00a0234,5", 1234.5),
        (" 3 ", 3.0),
        ("1e-3", 0.001),
        ("-1", None),
        ("NaN", None),
        ("inf", None),
        ("oops", None),
        ("", None),
        (None, None),
    ],
)
def test_seconds_in_every_locale(raw: str | None, seconds: float | None) -> None:
    assert junit.parse_seconds(raw) == (pytest.approx(seconds) if seconds is not None else None)


NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "known"),
    [
        ("2026-05-31T10:00:00", "2026-05-31T10:00:00+00:00"),
        ("2026-05-31T10:00:00+02:00", "2026-05-31T08:00:00+00:00"),
        ("2026-06-01T12:30:00Z", "2026-06-01T12:30:00+00:00"),  # a little ahead: clocks
        ("1970-01-01T00:00:00", None),  # jest-junit, a suite that failed to run
        ("0", None),
        ("2026-06-01T14:00:00Z", None),  # hours ahead: a zone mistake
        ("yesterday", None),
        ("1e300", None),
        ("", None),
        (None, None),
    ],
)
def test_timestamps_known_or_unknown(raw: str | None, known: str | None) -> None:
    value = junit.report_time(raw, NOW)
    assert (value.astimezone(UTC).isoformat() if value else None) == known


@pytest.mark.parametrize(
    ("children", "outcome"),
    [
        ("", ("passed", False)),
        ("<system-out>x</system-out>", ("passed", False)),
        ("<failure/>", ("failed", False)),
        ("<error/>", ("errored", False)),
        ("<failure/><rerunFailure/><rerunFailure/>", ("failed", False)),
        ("<error/><rerunError/>", ("errored", False)),
        ("<rerunFailure/>", ("failed", False)),
        ("<rerunError/>", ("errored", False)),
        ("<skipped/>", ("skipped", False)),
        ("<flakyFailure/><flakyFailure/>", ("passed", True)),
        ("<flakyError/>", ("passed", True)),
        ("<error/><failure/>", ("errored", False)),
    ],
)
def test_case_outcomes(children: str, outcome: tuple[str, bool]) -> None:
    case = ElementTree.fromstring(f"<testcase name='t'>{children}</testcase>")
    assert junit.case_outcome(case) == outcome


def test_cases_directly_under_testsuites(tmp_path: Path) -> None:
    path = tmp_path / "flat.xml"
    path.write_text(
        """<testsuites name="flat" timestamp="2025-02-01T00:00:00Z">
             <testcase name="a" time="0,5"/>
             <testcase name="b" time="0,25"><failure/></testcase>
             <testsuite name="inner"><testcase name="c"/></testsuite>
           </testsuites>"""
    )
    suites = {s.name: s for s in junit.parse_file(path)}
    assert set(suites) == {"flat", "inner"}
    flat = suites["flat"]
    assert (flat.passed, flat.failed, flat.seconds) == (1, 1, 0.75)
    assert flat.time == datetime(2025, 2, 1, tzinfo=UTC)
    assert suites["inner"].time == datetime(2025, 2, 1, tzinfo=UTC)  # the enclosing one's
    unnamed = tmp_path / "unnamed.xml"
    unnamed.write_text("<testsuites><testcase name='a'/></testsuites>")
    assert [s.name for s in junit.parse_file(unnamed)] == ["unnamed"]

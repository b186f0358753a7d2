"""JUnit XML reports -> TestReport events.

Reads the dialects CI tools write: pytest's (`<testsuites><testsuite
name="pytest" timestamp=...>`, one file for the run), Maven Surefire's (one
`TEST-<class>.xml` per test class, `<testsuite>` as the root, `flakyFailure` /
`rerunFailure` for reruns), and the Ant/Jenkins/Gradle ones they descend from.

Counting goes by the `<testcase>` elements (a case with `<failure>` failed,
with `<error>` errored, with `<skipped>` was skipped, else it passed; a case
Surefire reran until it passed, with only `flakyFailure`/`flakyError`
children, passed); the suite's `tests/failures/errors/skipped` attributes
are used only when a suite lists no cases. One TestReport per suite name:
suites of the same name (Surefire's per-class files of one module, when named
with --suite) are added up.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from google.protobuf import duration_pb2

from maestro.metrics.v1 import process_event_pb2
from maestro_grpc.agent.ci import CiError, parse_time, timestamp

MAX_FAILING = 1000


class JUnitError(ValueError):
    """A file that is not a readable JUnit report."""


@dataclass
class SuiteResult:
    """What one suite (or several of the same name) reported."""

    name: str
    passed: int = 0
    failed: int = 0
    errored: int = 0
    skipped: int = 0
    seconds: float = 0.0
    failing: list[str] = field(default_factory=list)
    time: datetime | None = None

    def merge(self, other: SuiteResult) -> None:
        self.passed += other.passed
        self.failed += other.failed
        self.errored += other.errored
        self.skipped += other.skipped
        self.seconds += other.seconds
        self.failing.extend(other.failing)
        del self.failing[MAX_FAILING:]
        if other.time and (self.time is None or other.time < self.time):
            self.time = other.time


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _float(raw: str | None) -> float:
    if not raw:
        return 0.0
    try:
        value = float(raw.replace(",", ""))
    except ValueError:
        return 0.0
    return value if math.isfinite(value) and value >= 0 else 0.0


def _int(raw: str | None) -> int:
    try:
        return max(0, int(raw or 0))
    except ValueError:
        return 0


def _case_name(case: ElementTree.Element) -> str:
    name = case.get("name", "")
    classname = case.get("classname", "")
    return f"{classname}.{name}" if classname and name else (name or classname)


def _suite(
    element: ElementTree.Element, fallback_name: str, fallback_time: datetime
) -> SuiteResult:
    result = SuiteResult(name=element.get("name") or fallback_name)
    cases = [c for c in element if _local(c.tag) == "testcase"]
    case_seconds = 0.0
    for case in cases:
        kinds = {_local(child.tag) for child in case}
        case_seconds += _float(case.get("time"))
        if "error" in kinds:
            result.errored += 1
        elif "failure" in kinds:
            result.failed += 1
        elif "skipped" in kinds:
            result.skipped += 1
            continue
        else:
            result.passed += 1
            continue
        if len(result.failing) < MAX_FAILING:
            result.failing.append(_case_name(case))
    if not cases:
        tests = _int(element.get("tests"))
        result.failed = _int(element.get("failures"))
        result.errored = _int(element.get("errors"))
        result.skipped = _int(element.get("skipped") or element.get("disabled"))
        result.passed = max(0, tests - result.failed - result.errored - result.skipped)
    suite_time = element.get("time")
    result.seconds = _float(suite_time) if suite_time else case_seconds
    stamp = element.get("timestamp")
    if stamp:
        try:
            result.time = parse_time(stamp, "timestamp")
        except CiError:
            result.time = fallback_time
    else:
        result.time = fallback_time
    return result


def parse_file(path: Path) -> list[SuiteResult]:
    """The suites of one JUnit XML file (nested suites flattened)."""
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError as error:
        raise JUnitError(f"{path}: not well-formed XML ({error})") from None
    except OSError as error:
        raise JUnitError(f"{path}: {error.strerror or error}") from None
    mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    tag = _local(root.tag)
    if tag not in {"testsuites", "testsuite"}:
        raise JUnitError(f"{path}: the root element is <{tag}>, not <testsuites> or <testsuite>")
    suites: list[SuiteResult] = []
    stack = [root]
    while stack:
        element = stack.pop()
        children = [c for c in element if _local(c.tag) == "testsuite"]
        if _local(element.tag) == "testsuite":
            has_cases = any(_local(c.tag) == "testcase" for c in element)
            if has_cases or not children:
                suites.append(_suite(element, path.stem, mtime))
        stack.extend(reversed(children))
    return suites


def collect(paths: list[Path], suite_name: str = "") -> list[SuiteResult]:
    """Suites of all files, one per name (or all under `suite_name`)."""
    merged: dict[str, SuiteResult] = {}
    for path in paths:
        for suite in parse_file(path):
            if suite_name:
                suite.name = suite_name
            if suite.name in merged:
                merged[suite.name].merge(suite)
            else:
                merged[suite.name] = suite
    return list(merged.values())


def report_event(
    project_id: str, suite: SuiteResult, *, provider: str, run_id: str, attempt: int
) -> process_event_pb2.ProcessEvent:
    duration = duration_pb2.Duration()
    duration.FromTimedelta(timedelta(seconds=round(suite.seconds, 6)))
    report = process_event_pb2.TestReport(
        provider=provider,
        run_id=run_id,
        attempt=attempt if run_id else 0,
        suite=suite.name[:500],
        passed=suite.passed,
        failed=suite.failed,
        errored=suite.errored,
        skipped=suite.skipped,
        duration=duration,
        failing_tests=suite.failing[:MAX_FAILING],
    )
    report.time.CopyFrom(timestamp(suite.time or datetime.now(UTC)))
    return process_event_pb2.ProcessEvent(project_id=project_id, test_report=report)

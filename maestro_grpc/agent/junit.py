"""JUnit XML reports -> TestReport events.

Reads the dialects CI tools write (tested on real files of pytest, Maven
Surefire, Gradle, jest-junit, mocha-junit-reporter, go-junit-report,
cargo-nextest and PHPUnit: tests/agent/fixtures/junit/): `<testsuites>` or
`<testsuite>` as the root, suites nested in suites, `<testcase>` elements
directly under `<testsuites>` (a suite named after the root, or the file).

Counting goes by the `<testcase>` elements, as their producers mean them:

| a case with | counts as |
| --- | --- |
| `<error>` (with or without `rerunError`s) | errored |
| `<failure>` (with or without `rerunFailure`s) | failed |
| only `rerunFailure` / `rerunError` | failed / errored |
| `<skipped>` (pytest's xfail too) | skipped |
| only `flakyFailure` / `flakyError` (Surefire, nextest) | passed, and flaky |
| nothing of these | passed |

The suite's `tests/failures/errors/skipped` attributes are used only when a
suite lists no cases (producers disagree with their own cases: Surefire
counts reruns, pytest subtests); a suite with neither cases nor counts
(mocha's "Root Suite", go-junit-report's package without tests) is no
report. A suite's time is its `time`, or the sum of its cases' when it has
none, cannot be read, or also covers nested suites; `0,5` (a comma
decimal, as some locales write) is half a second. Its timestamp, or the
nearest enclosing suite's, is used when it is a real time; a missing,
unparseable, 1970-01-01 (jest-junit's for a suite that failed to run) or
future timestamp is unknown, and the report is then dated by the file's
modification time: a suite is never dropped for its timestamp.

One TestReport per suite name: suites of the same name (Surefire's
per-class files of one module, when named with --suite) are added up.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from google.protobuf import duration_pb2

from maestro.metrics.v1 import process_event_pb2
from maestro_grpc.agent.ci import CiError, parse_time, timestamp

MAX_FAILING = 1000
MAX_JOB = 300
# Before this a timestamp is a placeholder (jest-junit writes the epoch).
EARLIEST = datetime(1971, 1, 1, tzinfo=UTC)
# A timestamp this far ahead of now is a clock or zone mistake.
AHEAD = timedelta(hours=1)
_SPACES = re.compile(r"[\s\u00a0\u202f]")


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
    flaky: int = 0
    seconds: float = 0.0
    failing: list[str] = field(default_factory=list)
    time: datetime | None = None  # None: unknown
    file_time: datetime | None = None  # when the report file was written

    @property
    def tests(self) -> int:
        return self.passed + self.failed + self.errored + self.skipped

    def merge(self, other: SuiteResult) -> None:
        self.passed += other.passed
        self.failed += other.failed
        self.errored += other.errored
        self.skipped += other.skipped
        self.flaky += other.flaky
        self.seconds += other.seconds
        self.failing.extend(other.failing)
        del self.failing[MAX_FAILING:]
        if other.time and (self.time is None or other.time < self.time):
            self.time = other.time
        if other.file_time and (self.file_time is None or other.file_time < self.file_time):
            self.file_time = other.file_time


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_seconds(raw: str | None) -> float | None:
    """A JUnit `time` in seconds; None when it is no finite, non-negative number.

    Locales write numbers differently: with both marks the last is the
    decimal one (`1,234.5`, `1.234,5`); a lone comma is a decimal comma
    (`0,5`, and `1,234` is 1.234 s: a locale with decimal commas is far
    likelier than a test of exactly 1,234 s); several commas, spaces or
    no-break spaces group digits (`1,234,567`, `1 234,5`)."""
    if raw is None:
        return None
    text = _SPACES.sub("", raw.strip())
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        grouping = "." if decimal == "," else ","
        text = text.replace(grouping, "").replace(decimal, ".")
    elif text.count(",") == 1:
        text = text.replace(",", ".")
    elif text.count(",") > 1:
        text = text.replace(",", "")
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def _int(raw: str | None) -> int:
    try:
        return max(0, int(raw or 0))
    except ValueError:
        return 0


def _case_name(case: ElementTree.Element) -> str:
    name = case.get("name", "")
    classname = case.get("classname", "")
    return f"{classname}.{name}" if classname and name else (name or classname)


def case_outcome(case: ElementTree.Element) -> tuple[str, bool]:
    """(passed, failed, errored or skipped; flaky) of one `<testcase>` (the table above)."""
    kinds = {_local(child.tag) for child in case}
    if "error" in kinds:
        return "errored", False
    if "failure" in kinds:
        return "failed", False
    if "rerunError" in kinds:
        return "errored", False
    if "rerunFailure" in kinds:
        return "failed", False
    if "skipped" in kinds:
        return "skipped", False
    return "passed", bool(kinds & {"flakyFailure", "flakyError"})


def report_time(raw: str | None, now: datetime) -> datetime | None:
    """A suite's timestamp when it is a real time, else None (unknown)."""
    if not raw:
        return None
    try:
        value = parse_time(raw, "timestamp")
    except (CiError, OverflowError, OSError):
        return None
    if value < EARLIEST or value > now + AHEAD:
        return None
    return value


def _suite(
    element: ElementTree.Element,
    cases: list[ElementTree.Element],
    name: str,
    nested: bool,
    inherited: datetime | None,
) -> SuiteResult:
    now = datetime.now(UTC)
    result = SuiteResult(name=name)
    case_seconds = 0.0
    for case in cases:
        case_seconds += parse_seconds(case.get("time")) or 0.0
        outcome, flaky = case_outcome(case)
        setattr(result, outcome, getattr(result, outcome) + 1)
        result.flaky += flaky
        if outcome in {"failed", "errored"} and len(result.failing) < MAX_FAILING:
            result.failing.append(_case_name(case))
    if not cases:
        tests = _int(element.get("tests"))
        result.failed = _int(element.get("failures"))
        result.errored = _int(element.get("errors"))
        result.skipped = _int(element.get("skipped") or element.get("disabled"))
        result.passed = max(0, tests - result.failed - result.errored - result.skipped)
    own = parse_seconds(element.get("time"))
    # A suite's own time covers its nested suites too: those report theirs.
    result.seconds = case_seconds if own is None or nested else own
    result.time = report_time(element.get("timestamp"), now) or inherited
    return result


def parse_file(path: Path) -> list[SuiteResult]:
    """The suites of one JUnit XML file (nested suites flattened)."""
    try:
        root = ElementTree.parse(path).getroot()
        mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except ElementTree.ParseError as error:
        raise JUnitError(f"{path}: not well-formed XML ({error})") from None
    except OSError as error:
        raise JUnitError(f"{path}: {error.strerror or error}") from None
    tag = _local(root.tag)
    if tag not in {"testsuites", "testsuite"}:
        raise JUnitError(f"{path}: the root element is <{tag}>, not <testsuites> or <testsuite>")
    suites: list[SuiteResult] = []
    stack: list[tuple[ElementTree.Element, datetime | None]] = [(root, None)]
    now = datetime.now(UTC)
    while stack:
        element, inherited = stack.pop()
        children = [c for c in element if _local(c.tag) == "testsuite"]
        cases = [c for c in element if _local(c.tag) == "testcase"]
        if _local(element.tag) == "testsuite" or cases:
            suite = _suite(
                element, cases, element.get("name") or path.stem, bool(children), inherited
            )
            # A suite that lists nothing and counts nothing reports nothing.
            if cases or (not children and suite.tests):
                suite.file_time = mtime
                suites.append(suite)
        stamp = report_time(element.get("timestamp"), now) or inherited
        stack.extend((child, stamp) for child in reversed(children))
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
    project_id: str,
    suite: SuiteResult,
    *,
    provider: str,
    run_id: str,
    attempt: int,
    job: str = "",
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
        flaky=suite.flaky,
        duration=duration,
        failing_tests=suite.failing[:MAX_FAILING],
        job=job[:MAX_JOB],
    )
    report.time.CopyFrom(timestamp(suite.time or suite.file_time or datetime.now(UTC)))
    return process_event_pb2.ProcessEvent(project_id=project_id, test_report=report)

"""A progress bar for long backfills (rich), silent when stderr is not a terminal."""

from __future__ import annotations

import sys
import threading
from types import TracebackType
from typing import Any


class Progress:
    """Rows collected and rows acked; safe to call from the collector thread."""

    def __init__(self, description: str, *, enabled: bool | None = None) -> None:
        if enabled is None:
            enabled = sys.stderr.isatty()
        self.enabled = enabled
        self._lock = threading.Lock()
        self.collected = 0
        self.acked = 0
        self._bar: Any = None
        self._task: Any = None
        self._description = description

    def __enter__(self) -> Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
            )
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("rows acked"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(self._description, total=None)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.__exit__(kind, error, trace)
            self._bar = None

    def add_collected(self, rows: int) -> None:
        with self._lock:
            self.collected += rows
            if self._bar is not None:
                self._bar.update(self._task, total=max(self.collected, self.acked))

    def add_acked(self, rows: int) -> None:
        with self._lock:
            self.acked += rows
            if self._bar is not None:
                self._bar.update(
                    self._task, completed=self.acked, total=max(self.collected, self.acked)
                )

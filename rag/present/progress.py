"""Progress of long work on stderr: a tqdm bar on a terminal, plain lines everywhere else.

    >>> import io
    >>> out = io.StringIO()
    >>> p = Progress("Indexing", stream=out, every=0)
    >>> p.update(0, 0, "waiting for another ingest (pid 42) to finish")
    >>> p.update(50, 200, "embedding"); p.close()
    >>> print(out.getvalue().splitlines()[0])
    Indexing: waiting for another ingest (pid 42) to finish
    >>> from rag.intake.pipeline import Phase
    >>> p.update(3, 0, Phase.FINDING); p.update(0, 400, Phase.READING)
    >>> print(out.getvalue().splitlines()[-2]); print(out.getvalue().splitlines()[-1])
    Indexing: finding files: 3 found
    Indexing: reading and cleaning: 0/400 files (0%)

Off a terminal (CI logs, ``nohup``, a pipe) a line is written when the phase changes and then at
most every ``every`` seconds, with counts, the rate and an ETA, so a long run is never silent.
"""

from __future__ import annotations

import sys
import time


class Progress:
    """``unit`` names what is counted, unless the phase says (``rag.intake.pipeline.Phase.unit``)."""

    def __init__(self, title: str, stream=None, every: float = 10.0, unit: str = "chunks"):
        self.title, self.default_unit, self.every = title, unit, every
        self.unit = unit
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._bar = None
        self._phase: str | None = None
        self._phase_started = time.monotonic()
        self._last_line = float("-inf")
        self._last_draw = float("-inf")

    def update(self, done: int, total: int, message: str) -> None:
        """The ingest's callback: ``done`` of ``total`` in phase ``message``."""
        now = time.monotonic()
        if message != self._phase:
            self._phase, self._phase_started, self._last_line = message, now, float("-inf")
            self._last_draw = float("-inf")
            self.unit = getattr(message, "unit", self.default_unit)
        message = getattr(message, "value", message)  # a Phase reads as its text
        if self.tty:
            if now - self._last_draw >= 0.1 or (total and done >= total):  # redrawing costs: 10 a second
                self._last_draw = now
                self._draw(done, total, message)
        elif now - self._last_line >= self.every or (total and done >= total):
            self._last_line = now
            self.stream.write(f"{self.title}: {self._describe(done, total, message, now)}\n")
            self.stream.flush()

    def _describe(self, done: int, total: int, message: str, now: float) -> str:
        if not total:
            return f"{message}: {done:,} found" if done else message
        elapsed = now - self._phase_started
        text = f"{message}: {done:,}/{total:,} {self.unit} ({done / total:.0%})"
        if done and elapsed > 0 and done < total:
            rate = done / elapsed
            text += f", {rate:.1f}/s, ETA {_duration((total - done) / rate)}"
        return text

    def _draw(self, done: int, total: int, message: str) -> None:
        from tqdm import tqdm

        if self._bar is None:
            self._bar = tqdm(total=0, unit=self.unit.rstrip("s"), file=self.stream)
        self._bar.unit = self.unit.rstrip("s")
        self._bar.total = total
        self._bar.n = done
        self._bar.set_description(f"{self.title}: {message}")
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"

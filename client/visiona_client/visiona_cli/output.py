"""What ``visiona`` prints: people read stderr and plain stdout; with ``--json``
stdout carries exactly one JSON object and progress stays off."""

from __future__ import annotations

import json
import sys
import time
import unicodedata
from datetime import datetime
from typing import Any, TextIO


class Output:
    def __init__(self, *, as_json: bool, out: TextIO | None = None, err: TextIO | None = None):
        self.as_json = as_json
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    def say(self, text: str) -> None:
        """A line for people on stdout (nothing in --json mode)."""
        if not self.as_json:
            print(text, file=self.out, flush=True)

    def note(self, text: str) -> None:
        """A line for people on stderr, in every mode: it never pollutes the JSON."""
        print(text, file=self.err, flush=True)

    def result(self, data: Any) -> None:
        if self.as_json:
            json.dump(data, self.out, ensure_ascii=False, default=str)
            self.out.write("\n")
            self.out.flush()

    def table(self, rows: list[list[str]], headers: list[str]) -> None:
        if self.as_json:
            return
        cells = [[str(value) for value in row] for row in [headers, *rows]]
        widths = [max(shown_width(row[i]) for row in cells) for i in range(len(headers))]
        for row in cells:
            line = "  ".join(
                value + " " * (width - shown_width(value)) for value, width in zip(row, widths)
            )
            print(line.rstrip(), file=self.out)
        self.out.flush()

    def progress(self, label: str, total: int | None) -> Progress:
        return Progress(label, total, stream=self.err, enabled=not self.as_json)


def shown_width(text: str) -> int:
    """Columns a terminal gives ``text``: a wide character (日本語, 模型) takes two, so a
    table with a Chinese model name keeps its columns in line (len() counts one)."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def api_time(moment: str) -> datetime:
    """An API time (RFC 3339); ValueError when it is none."""
    # Python 3.9's fromisoformat does not read "Z".
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


def local_time(moment: str | None) -> str:
    """An API time as this machine's local time, as ``ls`` and ``git log`` show times;
    "-" for none. The JSON result keeps the API's own value."""
    if not moment:
        return "-"
    try:
        parsed = api_time(moment)
    except ValueError:
        return moment
    return parsed.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def counted(count: int, noun: str) -> str:
    """ "1 device", "2 devices": English plurals of the nouns the CLI counts."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def human_bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GiB"  # pragma: no cover


class Progress:
    """A one-line bar on a terminal (redrawn at most 10 times a second); elsewhere (a
    CI log) a line at every quarter."""

    def __init__(self, label: str, total: int | None, *, stream: TextIO, enabled: bool) -> None:
        self.label = label
        self.total = total
        self.stream = stream
        self.enabled = enabled
        self.tty = enabled and hasattr(stream, "isatty") and stream.isatty()
        self.started = time.monotonic()
        self._drawn_at = 0.0
        self._quarter = -1
        self.done = 0

    def update(self, done: int) -> None:
        self.done = done
        if not self.enabled:
            return
        fraction = done / self.total if self.total else 0.0
        if self.tty:
            now = time.monotonic()
            if now - self._drawn_at < 0.1 and done != self.total:
                return
            self._drawn_at = now
            self.stream.write("\r" + self._line(fraction, 28))
            self.stream.flush()
        elif self.total:
            quarter = int(fraction * 4)
            if quarter > self._quarter:
                self._quarter = quarter
                print(self._line(fraction, 0), file=self.stream, flush=True)

    def _line(self, fraction: float, width: int) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = human_bytes(self.done / elapsed) + "/s"
        bar = ""
        if width:
            filled = int(fraction * width)
            bar = "[" + "#" * filled + "." * (width - filled) + "] "
        size = human_bytes(self.done) + (f" / {human_bytes(self.total)}" if self.total else "")
        return f"{self.label} {bar}{fraction * 100:5.1f}%  {size}  {rate}"

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()

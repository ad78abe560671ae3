"""Small helpers shared by the benchmarks: percentiles, a progress line, a table."""

from __future__ import annotations

import sys
import time


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


class Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, label: str, total: int):
        self.label, self.total, self.done = label, total, 0
        self.started = self._shown = time.monotonic()

    def advance(self, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if now - self._shown > 0.5 or self.done >= self.total:
            self._shown = now
            filled = int(30 * self.done / self.total)
            rate = self.done / max(now - self.started, 1e-9)
            sys.stderr.write(
                f"\r{self.label:<28} [{'#' * filled}{'.' * (30 - filled)}] "
                f"{self.done:>9,}/{self.total:,} {rate:>9,.0f}/s"
            )
            if self.done >= self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=False)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = ["| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=False)) + " |" for r in rows]
    return "\n".join([line, rule, *body])


def process_tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and all its descendants (Linux /proc):
    a server's workers are its children. A process gone meanwhile counts as 0."""
    import os

    tick = os.sysconf("SC_CLK_TCK")
    total, pending, seen = 0.0, [pid], set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            with open(f"/proc/{current}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    pending.extend(int(child) for child in children.read().split())
        except (OSError, ValueError, IndexError):
            continue
    return total

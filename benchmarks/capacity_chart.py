"""The capacity chart: p50 and p99 latency against the message rate, the app beside its floor.

    python -m benchmarks.capacity_chart capacity.csv docs/capacity.png

Reads the CSV of `python -m benchmarks.fanout --rates ...` (one row per target and rate) and
draws one chart: for each target, p99 as a solid line and p50 as a dashed one, on a log scale
(the two differ by orders of magnitude where a server falls behind). A rate that lost
messages is marked with an x: its latencies count only what arrived.
"""

from __future__ import annotations

import argparse
import csv
from collections import defaultdict
from pathlib import Path

COLOURS = {"app": "tab:red", "lean floor": "tab:blue"}


def read(path: Path) -> dict[str, list[dict]]:
    by_target: dict[str, list[dict]] = defaultdict(list)
    with path.open(newline="") as source:
        for row in csv.DictReader(source):
            by_target[row["target"]].append(row)
    for rows in by_target.values():
        rows.sort(key=lambda r: float(r["rate"]))
    return by_target


def draw(csv_path: Path, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    data = read(csv_path)
    figure, axes = plt.subplots(figsize=(8, 5), dpi=120)
    tabs = workers = seconds = ""
    for target, rows in data.items():
        colour = COLOURS.get(target)
        rates = [float(r["rate"]) for r in rows]
        for column, style, name in (("p99_ms", "-", "p99"), ("p50_ms", "--", "p50")):
            axes.plot(rates, [float(r[column]) for r in rows], style, marker="o", color=colour,
                      label=f"{target} {name}")  # fmt: skip
        lossy = [(float(r["rate"]), float(r["p99_ms"])) for r in rows if int(r["lost"]) or int(r["dup"])]
        if lossy:
            axes.plot(*zip(*lossy, strict=True), "x", color="black", markersize=10)
        tabs, workers, seconds = rows[0]["tabs"], rows[0]["workers"], rows[0]["seconds"]
    axes.set_xscale("log")
    axes.set_yscale("log")
    rates = sorted({float(r["rate"]) for rows in data.values() for r in rows})
    axes.set_xticks(rates, [f"{r:g}" for r in rates])
    axes.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axes.axhline(100, color="grey", linewidth=0.8, linestyle=":")
    axes.text(rates[0], 100, " p99 target 100 ms", va="bottom", color="grey", fontsize=8)
    axes.set_xlabel("messages per second, in total")
    axes.set_ylabel("send to recipient, ms")
    axes.set_title(
        f"{tabs} tabs, {workers} workers, ~{float(seconds or 0):.0f} s per rate (x: lost or duplicated)"
    )
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("csv")
    parser.add_argument("out", nargs="?", default="docs/capacity.png")
    args = parser.parse_args()
    draw(Path(args.csv), Path(args.out))


if __name__ == "__main__":
    main()

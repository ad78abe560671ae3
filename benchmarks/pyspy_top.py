"""Where a server's time goes: py-spy samples of a running process (and its workers), summed
per function.

    python -m benchmarks.pyspy_top record --pid 1234 --seconds 20 --out send.txt
    python -m benchmarks.pyspy_top top send.txt

`record` writes py-spy's raw format (one collapsed stack per line with its sample count);
`top` prints the functions that appear on the most sampled stacks ("total": the time spent
in them and below) and those that ran themselves ("self"), as shares of all samples.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

# Leaves where a thread only waits for work (an idle event loop, an idle driver thread).
IDLE = ("select (selectors.py", "poll (", "epoll", "wait (threading.py", "sleep", "aiosqlite/core.py:59)")
# The code a request runs through; wrappers (threads, click, granian's start-up) are left out.
OURS = ("chat_web/", "fastapi/", "starlette/", "sqlalchemy/", "sqlmodel/", "pydantic", "aiosqlite/",
        "asyncpg/", "jwt/", "reflex/app", "reflex/state", "redis/", "json/")  # fmt: skip


@contextlib.contextmanager
def recording(pid: int, seconds: float, out: Path) -> Iterator[None]:
    """Sample `pid` and its subprocesses while the block runs (at most `seconds`)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    command = [spy, "record", "--pid", str(pid), "--subprocesses", "--duration", str(int(seconds)),
               "--rate", "250", "--format", "raw", "--nonblocking", "--output", str(out)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        yield
    finally:
        try:
            process.wait(timeout=seconds + 30)
        except subprocess.TimeoutExpired:
            process.terminate()
            process.wait(timeout=10)
        if process.returncode not in (0, None) and not out.exists():
            print(f"py-spy failed: {process.stderr.read()[-500:]}", file=sys.stderr)


def _stacks(path: Path) -> Iterator[tuple[list[str], int]]:
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            yield stack.split(";"), int(count)


def top(path: Path, rows: int = 15) -> str:
    """The busiest functions of a recording, leaving out stacks that only waited for work."""
    total: Counter[str] = Counter()
    own: Counter[str] = Counter()
    samples = 0
    for frames, count in _stacks(path):
        # A stack of process frames alone is a thread with no Python on it (granian's runtime).
        if frames[-1].startswith("process ") or any(marker in frames[-1] for marker in IDLE):
            continue
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    if not samples:
        return "no busy samples"
    lines = [f"{samples:,} busy samples", "", "total  self  function"]
    for frame, count in total.most_common():
        if not any(part in frame for part in OURS):
            continue
        lines.append(f"{count / samples:5.1%} {own[frame] / samples:5.1%}  {frame[:110]}")
        if len(lines) >= rows + 3:
            break
    lines += ["", "self time by package:"]
    lines += [f"{count / samples:5.1%}  {package}" for package, count in _by_package(own).most_common(rows)]
    lines += ["", "self-time leaders:"]
    lines += [f"{count / samples:5.1%}  {frame[:110]}" for frame, count in own.most_common(rows)]
    return "\n".join(lines)


def _by_package(own: Counter[str]) -> Counter[str]:
    """Self samples per package (the folder under site-packages, or chat_web, or the stdlib module)."""
    packages: Counter[str] = Counter()
    for frame, count in own.items():
        where = frame.rpartition("(")[2].split(":")[0]
        packages[where.split("/")[0] if "/" in where else f"stdlib {where}"] += count
    return packages


def main() -> int:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    commands = parser.add_subparsers(dest="command", required=True)
    record = commands.add_parser("record")
    record.add_argument("--pid", type=int, required=True)
    record.add_argument("--seconds", type=float, default=20)
    record.add_argument("--out", type=Path, required=True)
    show = commands.add_parser("top")
    show.add_argument("path", type=Path)
    show.add_argument("--rows", type=int, default=15)
    args = parser.parse_args()
    if args.command == "record":
        with recording(args.pid, args.seconds, args.out):
            pass
        print(top(args.out))
    else:
        print(top(args.path, args.rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

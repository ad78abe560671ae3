"""axe-core in a Playwright page: inject the copy scripts/setup.sh installed, run it, report.

The script comes from `.tools/axe` (the npm registry, pinned in scripts/setup.sh), never from
a CDN; `AXE_CORE_JS` (exported by the setup script) may point elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = Path(os.environ.get("AXE_CORE_JS") or ROOT / ".tools/axe/node_modules/axe-core/axe.min.js")

# What fails the check. axe's other impacts ("moderate", "minor") are printed, not asserted.
BLOCKING = ("critical", "serious")

# axe's default rule set (WCAG 2.0-2.2 A and AA, and its best practices); only violations kept.
RUN_OPTIONS = {"resultTypes": ["violations"]}


def check(page) -> list[dict]:
    """axe's violations on the page as it is now (injecting axe first if it is not there)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    return page.evaluate("options => axe.run(document, options).then(r => r.violations)", RUN_OPTIONS)


def blocking(violations: list[dict], also: set[str] | frozenset[str] = frozenset()) -> list[dict]:
    """The serious and critical violations, and those of the rules named in `also`."""
    return [v for v in violations if v.get("impact") in BLOCKING or v["id"] in also]


def describe(where: str, violations: list[dict], nodes: int = 6) -> str:
    """One block per violation: rule id, impact, help, and the nodes' targets with axe's summary."""
    if not violations:
        return f"{where}: no violations"
    lines = [f"{where}:"]
    for violation in violations:
        lines.append(f"  [{violation['impact']}] {violation['id']}: {violation['help']}")
        for node in violation["nodes"][:nodes]:
            target = " ".join(str(t) for t in node["target"])
            summary = (node.get("failureSummary") or "").replace("\n", " ").strip()
            lines.append(f"      {target}  {summary[:220]}")
        if len(violation["nodes"]) > nodes:
            lines.append(f"      … and {len(violation['nodes']) - nodes} more")
    return "\n".join(lines)


def assert_clean(page, where: str) -> None:
    """No serious or critical finding on the page as it is, once fonts and Radix's transitions
    (100-200 ms; axe reads computed colours) have settled. The full report is printed."""
    page.evaluate("document.fonts.ready.then(() => true)")
    page.wait_for_timeout(300)
    violations = check(page)
    print(describe(where, violations))
    assert not blocking(violations), describe(where, blocking(violations))

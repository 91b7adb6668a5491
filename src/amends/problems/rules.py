"""Problems as plain data: verifying a fix by the complaint rate before and after it. No IO."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class ProblemPolicy:
    """What the playbook's `problems:` section decides."""

    window: timedelta = timedelta(days=28)  # compared before and after the fix
    recurring_window: timedelta = timedelta(days=14)  # recent complaints that count as a return
    recurring_min: int = 3  # at least this many in that window
    alpha: float = 0.05  # the test's significance level


@dataclass(frozen=True)
class Verification:
    """The problem's share of complaints before and after its fix, and whether the drop is real."""

    before: int  # its complaints in the window before the fix
    before_total: int  # all complaints in that window
    after: int
    after_total: int
    p_value: float | None  # one-sided Fisher exact test: the share fell
    verdict: str  # "fixed", "not yet significant", "no change", "recurring", "too early"

    @property
    def before_share(self) -> float | None:
        return self.before / self.before_total if self.before_total else None

    @property
    def after_share(self) -> float | None:
        return self.after / self.after_total if self.after_total else None

    def to_dict(self) -> dict[str, object]:
        return {
            "before": self.before,
            "before_total": self.before_total,
            "before_share": self.before_share,
            "after": self.after,
            "after_total": self.after_total,
            "after_share": self.after_share,
            "p_value": self.p_value,
            "verdict": self.verdict,
        }


def verify(
    before: int,
    before_total: int,
    after: int,
    after_total: int,
    *,
    recent: int,
    policy: ProblemPolicy,
) -> Verification:
    """Did the fix work? A one-sided Fisher exact test on the problem's share of all complaints
    before and after the fix; `recent` complaints in the recurring window above the policy's
    minimum, with no significant fall, mean it came back."""
    from scipy.stats import fisher_exact  # imported here: scipy.stats takes a second to load

    if after_total == 0 or before_total == 0:
        return Verification(before, before_total, after, after_total, None, "too early")
    table = [[before, before_total - before], [after, after_total - after]]
    _odds, p = fisher_exact(table, alternative="greater")
    p_value = float(p)
    fell = p_value < policy.alpha
    if not fell and recent >= policy.recurring_min:
        verdict = "recurring"
    elif fell:
        verdict = "fixed"
    elif after < before * after_total / before_total:
        verdict = "not yet significant"
    else:
        verdict = "no change"
    return Verification(before, before_total, after, after_total, p_value, verdict)

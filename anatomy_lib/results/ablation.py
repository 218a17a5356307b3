"""Seed statistics of an ablation sweep (``scripts/reproduce_table4.py``).

A sweep report holds runs keyed ``"<variant> | seed <k>"``, each with ``variant``,
``seed`` and ``results`` (nested dicts of numbers). Here a row is summarised by its mean and
standard deviation over seeds, and a step between two rows by the mean of the differences
paired by seed, with a Student-t confidence interval, set beside the paper's step:

* **reproduces**: the interval excludes zero and has the sign of the paper's step;
* **reverses**: the interval excludes zero and has the opposite sign;
* **unresolved**: the interval contains zero (no evidence either way at this scale).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Literal

from scipy.stats import t as student_t

__all__ = [
    "PAPER_TABLE4_P1_MM",
    "RowSummary",
    "StepEstimate",
    "Verdict",
    "metric_value",
    "paired_step",
    "t_interval",
    "seed_values",
    "summarize_row",
    "verdict",
]

Verdict = Literal["reproduces", "reverses", "unresolved"]

#: Protocol 1 (mm) on Human3.6M as published in the paper's Table 4 and Sec. 4.4 (81-frame
#: models, CPN detections), per row of ``TABLE4_ROWS`` and ``TABLE4_EXTRAS``.
PAPER_TABLE4_P1_MM = {
    "baseline": 47.7,
    "af": 48.4,
    "af+ml": 46.6,
    "af+ml+boneatt": 46.5,
    "af+ml+boneatt+aug": 46.3,
    "af+ml+boneatt+aug+jsl": 45.8,
    "af+ml+boneatt+aug+jsl+lsc": 45.1,
    "af+ml+boneatt+aug+jsl+lsc+scoreatt": 44.6,
    "baseline+jsl": 47.5,
    "af-conse+ml+boneatt+aug+jsl": 46.7,
    "af+ml+boneatt+aug+jsl+baseline-d": 45.8,
    "af+ml+boneatt+aug+jsl+lsc+fusion": 44.8,
}


@dataclass(frozen=True)
class RowSummary:
    """One row over its seeds: ``values`` in seed order, their ``mean`` and sample ``std``
    (``nan`` with a single seed)."""

    variant: str
    metric: str
    seeds: tuple[int, ...]
    values: tuple[float, ...]
    mean: float
    std: float


@dataclass(frozen=True)
class StepEstimate:
    """The change from row ``before`` to row ``after`` (``after - before``; negative is an
    improvement for an error), paired by seed.

    Attributes:
        differences: per common seed, in seed order.
        mean: their mean; ``ci_low`` / ``ci_high`` its two-sided ``confidence`` interval.
        paper: the paper's step, or None.
        verdict: see the module docstring (``"unresolved"`` without a paper step or with
            fewer than two seeds, where the interval is ``nan``).
    """

    before: str
    after: str
    metric: str
    seeds: tuple[int, ...]
    differences: tuple[float, ...]
    mean: float
    ci_low: float
    ci_high: float
    confidence: float
    paper: float | None
    verdict: Verdict


def metric_value(run: dict, metric: str) -> float:
    """``run["results"]`` read at a dotted path, e.g. ``"validation.p1"``.

    Raises:
        KeyError: the path does not exist, with the keys found where it stopped.
    """
    node = run["results"]
    for part in metric.split("."):
        if not isinstance(node, dict) or part not in node:
            known = sorted(node) if isinstance(node, dict) else type(node).__name__
            raise KeyError(f"metric {metric!r}: no {part!r} in the run's results ({known})")
        node = node[part]
    return float(node)


def seed_values(report: dict, variant: str, metric: str) -> dict[int, float]:
    """``{seed: value}`` of every run of ``variant`` in ``report``."""
    values = {
        int(run["seed"]): metric_value(run, metric)
        for run in report["runs"].values()
        if run["variant"] == variant
    }
    return dict(sorted(values.items()))


def summarize_row(report: dict, variant: str, metric: str) -> RowSummary:
    """Mean and standard deviation of ``metric`` over the seeds of ``variant``.

    Raises:
        KeyError: ``variant`` has no run in ``report``.
    """
    values = seed_values(report, variant, metric)
    if not values:
        raise KeyError(f"no run of {variant!r} in the report")
    v = tuple(values.values())
    std = statistics.stdev(v) if len(v) > 1 else math.nan
    return RowSummary(variant, metric, tuple(values), v, statistics.fmean(v), std)


def verdict(ci_low: float, ci_high: float, paper: float | None) -> Verdict:
    """Whether an interval on a step reproduces, reverses or leaves unresolved the paper's
    step ``paper`` (same sign convention)."""
    if paper is None or paper == 0 or not (ci_low > 0 or ci_high < 0):
        return "unresolved"
    return "reproduces" if (ci_low > 0) == (paper > 0) else "reverses"


def t_interval(values: tuple[float, ...] | list[float], confidence: float = 0.95) -> tuple:
    """``(mean, low, high)``: the mean of ``values`` and its two-sided Student-t interval
    (``n - 1`` degrees of freedom; ``nan`` bounds with fewer than two values).

    Raises:
        ValueError: no values, or ``confidence`` not in (0, 1).
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence: expected a value in (0, 1), got {confidence}")
    if len(values) == 0:
        raise ValueError("values: expected at least one, got none")
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, math.nan, math.nan
    half = student_t.ppf(0.5 + confidence / 2, len(values) - 1) * statistics.stdev(values)
    half /= math.sqrt(len(values))
    return mean, mean - half, mean + half


def paired_step(
    report: dict,
    before: str,
    after: str,
    metric: str,
    paper: float | None = None,
    confidence: float = 0.95,
) -> StepEstimate:
    """The step ``after - before`` over the seeds both rows ran, with a paired Student-t
    interval (``n - 1`` degrees of freedom).

    Raises:
        ValueError: the rows share no seed, or ``confidence`` is not in (0, 1).
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence: expected a value in (0, 1), got {confidence}")
    a, b = seed_values(report, before, metric), seed_values(report, after, metric)
    seeds = tuple(s for s in a if s in b)
    if not seeds:
        raise ValueError(f"rows {before!r} and {after!r} share no seed")
    diffs = tuple(b[s] - a[s] for s in seeds)
    mean, low, high = t_interval(diffs, confidence)
    return StepEstimate(
        before, after, metric, seeds, diffs, mean, low, high, confidence, paper,
        verdict(low, high, paper),
    )  # fmt: skip

"""Figures, the stdout table, build/bench/results.json and the optional plot."""
import json
import os
import statistics
from dataclasses import dataclass, field


@dataclass
class Figure:
    """One measured quantity, natively and under cshyper, over several runs.
    Samples are in `unit`; `native` is None where there is no native
    counterpart. `target` is the maximum cshyper/native ratio from
    TARGETS.md, if it sets one; `limit` an absolute bound instead (the
    cshyper median must stay below it, in `unit`)."""
    key: str
    title: str
    unit: str
    meaning: str
    native: list = None
    cshyper: list = field(default_factory=list)
    target: float = None
    target_text: str = None
    higher_is_better: bool = False  # throughput: `target` is then the minimum ratio
    limit: float = None

    @staticmethod
    def median(samples):
        return statistics.median(samples) if samples else None

    @property
    def ratio(self):
        n, c = self.median(self.native), self.median(self.cshyper)
        return c / n if n and c is not None else None

    @property
    def met(self):
        if self.limit is not None:
            c = self.median(self.cshyper)
            return None if c is None else c < self.limit
        r = self.ratio
        if self.target is None or r is None:
            return None
        return r >= self.target if self.higher_is_better else r <= self.target

    def as_json(self):
        def side(samples):
            if samples is None:
                return None
            return {"median": self.median(samples), "min": min(samples, default=None),
                    "max": max(samples, default=None), "samples": samples}
        return {"key": self.key, "title": self.title, "unit": self.unit,
                "meaning": self.meaning, "native": side(self.native),
                "cshyper": side(self.cshyper), "ratio": self.ratio,
                "target_max_ratio": None if self.higher_is_better else self.target,
                "target_min_ratio": self.target if self.higher_is_better else None,
                "target_limit": self.limit,
                "target": self.target_text,
                "target_met": self.met}


def _fmt(samples, unit):
    m = Figure.median(samples)
    if m is None:
        return "-"
    digits = 3 if unit == "s" or abs(m) < 10 else 1
    text = f"{m:.{digits}f} {unit}"
    lo, hi = min(samples), max(samples)
    pct = 50 * (hi - lo) / m if len(samples) > 1 and m else 0
    if pct >= 0.1:
        text += f" ±{pct:.1f}%"
    elif pct >= 0.005:
        text += f" ±{pct:.2f}%"
    return text


def table(figures):
    """Medians; ±x% is half the spread between the fastest and slowest run
    (left out below 0.005%)."""
    rows = [("figure", "native", "cshyper", "ratio", "target")]
    for f in figures:
        r = f.ratio
        target = "-"
        if f.target is not None or f.limit is not None:
            bound = "≥" if f.higher_is_better else "≤"
            target = (f"{bound} {f.target:.2f}×" if f.limit is None else f"< {f.limit:g} {f.unit}")
            target += "" if f.met is None else (" ok" if f.met else " MISSED")
        rows.append((f.title, _fmt(f.native, f.unit), _fmt(f.cshyper, f.unit),
                     "-" if r is None else f"{r:.3f}×", target))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for i, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def legend(figures):
    return "\n".join(f"  {f.title}: {f.meaning}" for f in figures)


def write_json(path, meta, figures, notes):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump({"meta": meta, "figures": [x.as_json() for x in figures], "notes": notes},
                  f, indent=2)
        f.write("\n")
    os.replace(path + ".tmp", path)


def plot(path, figures):
    """A bar chart of the cshyper/native ratios, if matplotlib is there.
    Returns a note saying what happened; never fails the benchmark."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception:
        return "plot skipped: matplotlib is not importable by this python"
    try:
        shown = [f for f in figures if f.ratio is not None]
        if not shown:
            return "plot skipped: no figure has a native baseline"
        fig, ax = plt.subplots(figsize=(8, 0.5 * len(shown) + 1.5))
        ax.barh([f.title for f in shown], [f.ratio for f in shown])
        for i, f in enumerate(shown):
            if f.target is not None:
                ax.plot([f.target, f.target], [i - 0.4, i + 0.4], color="red")
        ax.axvline(1.0, color="grey", linewidth=0.8)
        ax.set_xlabel("cshyper / native (lower is better; red: target)")
        ax.invert_yaxis()
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)
        return f"plot: {path}"
    except Exception as e:  # a broken matplotlib must not lose the figures
        return f"plot skipped: {e}"

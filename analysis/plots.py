"""Seaborn figures from result tables (never from the engines)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files, not windows: runs on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

# the run's figure (also the page's debrief) lives in analysis/series.py, drawn without seaborn
from .series import KEY_SERIES, regime_series, with_rolling  # noqa: E402, F401


# --- figures for sweeps: each takes result tables and an output path, and returns the path -----

REGIME_ORDER = ["heroic", "hierarchical", "distributed"]
REGIME_COLOURS = {"heroic": "#d95f02", "hierarchical": "#7570b3", "distributed": "#1b9e77"}
LABELS = {
    "regime": "regime",
    "seed": "seed",
    "step": "step",
    "design_row": "design row",
    "cfg.org.name": "org",
    "cfg.n_members": "members",
    "cfg.env.turbulence": "turbulence",
    "cfg.env.complexity": "complexity",
    "cfg.regime.centralisation": "centralisation",
    "cfg.events.schedule": "events",
    "value_share": "value share captured",
    "value_share_40": "value share captured (40-step window)",
    "completion_rate": "completion rate",
    "mean_cycle": "mean cycle time (steps)",
    "mean_utilisation": "mean utilisation",
    "leadership_gini": "leadership Gini",
    "share_ever_led": "share who ever led",
    "initiative_gini": "initiative Gini",
    "final_autonomy": "final autonomy",
    "final_energy": "final energy",
    "mean_autonomy": "mean autonomy (SDT)",
    "mean_energy": "mean energy",
    "burnout_days": "burnout-days",
    "tasks_failed": "tasks failed",
    "effective_decision_load": "effective decision load",
}


def label(column: str) -> str:
    """A readable name for a result column or a factor."""
    if column in LABELS:
        return LABELS[column]
    if column.startswith("impact."):
        event, _, measure = column[len("impact."):].rpartition(".")
        return f"{measure.replace('_', ' ')} ({event})"
    return column.removeprefix("cfg.").replace("_", " ")


def _theme() -> None:
    sns.set_theme(style="whitegrid", context="notebook")


def _save(fig, path):
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def _regimes(frame: pd.DataFrame) -> list[str]:
    present = set(frame["regime"])
    return [r for r in REGIME_ORDER if r in present] + sorted(present - set(REGIME_ORDER))


def _palette(regimes) -> dict:
    extra = iter(sns.color_palette("tab10"))
    return {r: REGIME_COLOURS.get(r) or next(extra) for r in regimes}


def _facet(frame: pd.DataFrame, column):
    """`column` if it is present and has more than one level, else None."""
    return column if column and column in frame and frame[column].nunique() > 1 else None


def _readable(frame: pd.DataFrame, columns) -> tuple[pd.DataFrame, list]:
    """Rename columns to their labels, so facet titles and axes read as words."""
    names = {c: label(c) for c in columns if c}
    return frame.rename(columns=names), [names.get(c) if c else None for c in columns]


def regime_comparison(summary: pd.DataFrame, path, value: str = "value_share", col=None, row=None,
                      title: str | None = None):
    """Mean and 95% CI (t, across seeds) of an outcome by regime, each seed as a faint dot,
    optionally faceted by one or two factors (other factors are averaged within each seed)."""
    from .stats import seed_means, t_interval

    _theme()
    col, row = _facet(summary, col), _facet(summary, row)
    data = seed_means(summary, ["regime"] + [c for c in (col, row) if c], value)
    order = _regimes(data)
    data, (y, col_l, row_l) = _readable(data, [value, col, row])
    g = sns.catplot(data=data, x="regime", y=y, col=col_l, row=row_l, kind="point", order=order, hue="regime",
                    hue_order=order, palette=_palette(order), errorbar=t_interval, capsize=0.15,
                    linestyle="none", markers="D", height=3.6, aspect=1.1, legend=False,
                    margin_titles=row_l is not None)
    g.map_dataframe(sns.stripplot, x="regime", y=y, order=order, color="0.35", alpha=0.35, size=3.5,
                    jitter=0.12, zorder=0)
    g.set_axis_labels("", y)
    if col_l or row_l:
        g.set_titles(col_template=f"{col_l} = {{col_name}}", row_template=f"{row_l} = {{row_name}}")
    g.figure.suptitle(title or f"{label(value).capitalize()} by regime (mean and 95% CI across seeds)", y=1.03)
    return _save(g.figure, path)


def _x_axis(g, levels, logx: bool) -> None:
    for ax in g.axes.flat:
        if logx:
            ax.set_xscale("log")
            ax.minorticks_off()
        ax.set_xticks(levels, [f"{v:g}" for v in levels])


def crossover_curves(summary: pd.DataFrame, path, value: str = "value_share", x: str = "cfg.env.turbulence",
                     col="cfg.org.name", row="cfg.n_members", logx: bool = False, title: str | None = None):
    """An outcome against one environmental factor, one line per regime with its 95% CI band
    across seeds, faceted by org and size; other factors are averaged within each seed."""
    from .stats import seed_means, t_interval

    _theme()
    col, row = (_facet(summary, c) if c != x else None for c in (col, row))
    data = seed_means(summary, ["regime", x] + [c for c in (col, row) if c], value)
    order = _regimes(data)
    data, (y, x_l, col_l, row_l) = _readable(data, [value, x, col, row])
    g = sns.relplot(data=data, x=x_l, y=y, hue="regime", hue_order=order, palette=_palette(order), col=col_l,
                    row=row_l, kind="line", errorbar=t_interval, marker="o", height=3.4, aspect=1.2,
                    err_kws={"alpha": 0.12}, facet_kws={"margin_titles": row_l is not None})
    _x_axis(g, sorted(data[x_l].unique()), logx)
    if col_l or row_l:
        g.set_titles(col_template=f"{col_l} = {{col_name}}", row_template=f"{row_l} = {{row_name}}")
    g.figure.suptitle(title or f"{label(value).capitalize()} vs {x_l} (mean and 95% CI across seeds)", y=1.03)
    return _save(g.figure, path)


def difference_curves(summary: pd.DataFrame, path, value: str = "value_share", x: str = "cfg.env.turbulence",
                      col="cfg.org.name", row="cfg.n_members", a: str = "distributed", logx: bool = False,
                      title: str | None = None):
    """The paired difference a - heroic and a - hierarchical (same seed, same other factors)
    against one factor, mean and 95% CI band across pairs: where the band leaves zero, a wins
    (above) or loses (below). Pairs remove the seed-to-seed spread of the task stream."""
    from .stats import CENTRAL, paired_differences, seed_means, t_interval

    _theme()
    col, row = (_facet(summary, c) if c != x else None for c in (col, row))
    keys = [x] + [c for c in (col, row) if c]
    frames = []
    for b in [r for r in CENTRAL if r in set(summary["regime"])]:
        pairs = paired_differences(summary, value, a, b).pairs
        frames.append(seed_means(pairs, keys, "diff").assign(comparison=f"{a} − {b}"))
    data, (x_l, col_l, row_l) = _readable(pd.concat(frames, ignore_index=True), [x, col, row])
    y = "paired difference"
    data = data.rename(columns={"diff": y})
    colours = {f"{a} − {b}": REGIME_COLOURS.get(b) for b in CENTRAL}
    g = sns.relplot(data=data, x=x_l, y=y, hue="comparison", palette=colours, col=col_l, row=row_l, kind="line",
                    errorbar=t_interval, marker="o", height=3.4, aspect=1.2 if col_l else 1.7,
                    err_kws={"alpha": 0.15}, facet_kws={"margin_titles": row_l is not None})
    for ax in g.axes.flat:
        ax.axhline(0, color="0.3", linewidth=1)
    _x_axis(g, sorted(data[x_l].unique()), logx)
    if col_l or row_l:
        g.set_titles(col_template=f"{col_l} = {{col_name}}", row_template=f"{row_l} = {{row_name}}")
    g.figure.suptitle(title or f"Paired difference in {label(value)} vs {x_l}\n"
                               f"(above zero: {a} wins; mean and 95% CI across seeds)", y=1.1)
    return _save(g.figure, path)


def _jobs(metrics: pd.DataFrame, summary: pd.DataFrame, keys) -> pd.DataFrame:
    """Per-step metrics joined to each job's regime, seed and factors (via job_dir)."""
    keys = [k for k in dict.fromkeys(["regime", "seed"] + [k for k in keys if k]) if k in summary]
    left = metrics.drop(columns=[k for k in keys if k in metrics])
    return left.merge(summary[["job_dir"] + keys], on="job_dir", how="inner")


def resilience(metrics: pd.DataFrame, summary: pd.DataFrame, path, event_step: int, event: str = "",
               col="cfg.org.name", before: int = 60, after: int | None = None, window: int = 40):
    """The rolling value share (value captured / value arrived over `window` steps) around an
    event, by regime, mean and 95% CI across seeds, with a vertical line at the event."""
    from .stats import seed_means, t_interval

    _theme()
    col = _facet(summary, col)
    data = with_rolling(metrics, by="job_dir", window=window)
    lo = max(event_step - before, min(window, event_step))  # full windows where the run allows
    hi = data["step"].max() if after is None else event_step + after
    data = _jobs(data[(data["step"] >= lo) & (data["step"] <= hi)], summary, [col])
    data = seed_means(data, ["regime", "step"] + ([col] if col else []), "value_share_40")
    order = _regimes(data)
    y = f"value share captured ({window}-step window)"
    data, (col_l,) = _readable(data.rename(columns={"value_share_40": y}), [col])
    few = data.groupby(["regime"] + ([col_l] if col_l else []))["seed"].nunique().min() < 3
    g = sns.relplot(data=data, x="step", y=y, hue="regime", hue_order=order, palette=_palette(order), col=col_l,
                    kind="line", errorbar=None if few else t_interval, height=3.6, aspect=1.3, linewidth=2,
                    col_wrap=3 if col_l and data[col_l].nunique() > 3 else None)
    if few:  # a t interval from one or two seeds would fill the panel: show each seed's run instead
        g.map_dataframe(sns.lineplot, x="step", y=y, hue="regime", hue_order=order, palette=_palette(order),
                        units="seed", estimator=None, alpha=0.35, linewidth=0.8, legend=False)
    top = data.groupby(["regime", "step"] + ([col_l] if col_l else []))[y].mean().max()
    g.set(ylim=(0, max(1.05, 1.2 * top)))  # a share: bands from two or three seeds would swamp it
    for ax in g.axes.flat:
        ax.axvline(event_step, color="0.2", linestyle="--", linewidth=1)
        ax.text(event_step, 1.0, f" {event or 'event'}", transform=ax.get_xaxis_transform(), va="top",
                ha="left", fontsize=9, color="0.2")
    if col_l:
        g.set_titles(col_template=f"{col_l} = {{col_name}}")
    spread = "thin lines: single seeds" if few else "mean and 95% CI across seeds"
    g.figure.suptitle(f"Value share around {event or 'the event'} ({spread})", y=1.03)
    return _save(g.figure, path)


def lorenz_curves(members: pd.DataFrame, path, col=None, value: str = "led_count", title: str | None = None):
    """Lorenz curves of who led work: the share of all task leads held by the bottom share of
    members, the mean curve across runs per regime with the middle 50% of runs as a band, each
    regime's mean Gini (across runs) in the legend."""
    from .stats import lorenz_table

    _theme()
    col = _facet(members, col)
    curves = lorenz_table(members, by=["regime"] + ([col] if col else []), value=value)
    panels = sorted(curves[col].unique()) if col else [None]
    order = _regimes(curves)
    palette = _palette(order)
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels) + 0.6, 4.4), squeeze=False, sharey=True)
    for ax, panel in zip(axes.flat, panels):
        sub = curves if panel is None else curves[curves[col] == panel]
        ginis = sub.groupby(["regime", "job_dir"])["gini"].first().groupby("regime").mean()
        names = {r: f"{r} (Gini {ginis[r]:.2f})" for r in order if r in ginis}
        sub = sub.assign(regime=sub["regime"].map(names))
        sns.lineplot(data=sub, x="population_share", y="leadership_share", hue="regime",
                     hue_order=[names[r] for r in order if r in names],
                     palette={names[r]: palette[r] for r in names}, errorbar=("pi", 50), ax=ax)
        ax.plot([0, 1], [0, 1], color="0.5", linestyle=":", linewidth=1, label="equal leadership")
        ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="share of members (fewest leads first)",
               ylabel="share of all task leads")
        ax.set_title(f"{label(col)} = {panel}" if panel is not None else "")
        ax.legend(title="", fontsize=9, loc="upper left")
    fig.suptitle(title or "Who led the work: Lorenz curves of task leads\n(mean across runs; band: middle 50% of runs)")
    fig.tight_layout()
    return _save(fig, path)


def motivation_energy(metrics: pd.DataFrame, summary: pd.DataFrame, path, col=None):
    """Mean autonomy (SDT motivation) and mean energy over time by regime: mean and 95% CI
    across seeds (other factors are averaged within each seed)."""
    from .stats import seed_means, t_interval

    _theme()
    col = _facet(summary, col)
    data = _jobs(metrics[["job_dir", "step", "mean_autonomy", "mean_energy"]], summary, [col])
    keys = ["regime", "step"] + ([col] if col else [])
    panels = sorted(data[col].unique()) if col else [None]
    order = _regimes(data)
    fig, axes = plt.subplots(2, len(panels), figsize=(5.2 * len(panels) + 0.8, 7), squeeze=False, sharex=True,
                             sharey="row")
    for j, panel in enumerate(panels):
        sub = data if panel is None else data[data[col] == panel]
        for i, measure in enumerate(["mean_autonomy", "mean_energy"]):
            ax = axes[i, j]
            sns.lineplot(data=seed_means(sub, keys, measure), x="step", y=measure, hue="regime", hue_order=order,
                         palette=_palette(order), errorbar=t_interval, ax=ax, legend=(i, j) == (0, 0))
            ax.set_ylabel(label(measure))
            ax.set_title(f"{label(col)} = {panel}" if panel is not None and i == 0 else "")
    axes[0, 0].legend(title="regime", fontsize=9)
    fig.suptitle("Motivation and energy over time (mean and 95% CI across seeds)")
    fig.tight_layout()
    return _save(fig, path)


def sensitivity(indices: pd.DataFrame, path, value: str = "value_share", title: str | None = None):
    """Morris screening per outcome: mu* (overall influence of a lever) against sigma
    (interactions and non-linearity), with mu*'s confidence interval; the dashed line is
    sigma = mu*, above which a lever acts mostly through interactions."""
    _theme()
    outcomes = list(dict.fromkeys(indices["outcome"]))
    levers = list(dict.fromkeys(indices["lever"]))
    colours = dict(zip(levers, sns.color_palette("tab10", len(levers))))
    fig, axes = plt.subplots(1, len(outcomes), figsize=(4.8 * len(outcomes), 4.6), squeeze=False)
    for ax, outcome in zip(axes.flat, outcomes):
        sub = indices[indices["outcome"] == outcome]
        for _, r in sub.iterrows():
            ax.errorbar(r["mu_star"], r["sigma"], xerr=r["mu_star_conf"], fmt="o", color=colours[r["lever"]],
                        ecolor=colours[r["lever"]], elinewidth=1, capsize=3, label=r["lever"])
        inert = sub.loc[(sub["mu_star"] == 0) & (sub["sigma"] == 0), "lever"].tolist()
        if inert:  # they all sit on the origin: name them
            ax.text(0.98, 0.02, "no effect: " + ", ".join(inert), transform=ax.transAxes, ha="right", va="bottom",
                    fontsize=9, color="0.3")
        top = max(float(sub[["mu_star", "sigma"]].max().max()) * 1.15, 1e-6)
        ax.plot([0, top], [0, top], color="0.5", linestyle="--", linewidth=1)
        ax.set(xlim=(-0.03 * top, top), ylim=(-0.03 * top, top), xlabel="μ* (mean |elementary effect|)", ylabel="σ (spread of effects)",
               title=outcome)
    handles = [plt.Line2D([], [], marker="o", linestyle="none", color=colours[lv]) for lv in levers]
    fig.legend(handles, levers, title="lever", loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle(title or f"Sensitivity of {label(value)} to the four keys (Morris screening)")
    fig.tight_layout()
    return _save(fig, path)


def discovery_tradeoff(trajectories: pd.DataFrame, path, min_density: float | None = None,
                       base_rate: float | None = None, title: str | None = None):
    """PRIM's peeling trajectory for each box: coverage against density, each point coloured by
    how many keys the box restricts, the chosen point marked with a star and the other reported
    points (simpler rules) ringed. Peeling moves from the lower right (everything, the base rate)
    towards the upper left (small, dense boxes)."""
    _theme()
    boxes = sorted(trajectories["box"].unique())
    dims = sorted(trajectories["res_dim"].unique())
    colours = dict(zip(dims, sns.color_palette("viridis", len(dims))))
    fig, axes = plt.subplots(1, len(boxes), figsize=(4.8 * len(boxes) + 1.2, 4.4), squeeze=False, sharey=True)
    for ax, b in zip(axes.flat, boxes):
        t = trajectories[trajectories["box"] == b].sort_values("point")
        ax.plot(t["coverage"], t["density"], color="0.6", linewidth=1, zorder=1)
        ax.scatter(t["coverage"], t["density"], c=[colours[r] for r in t["res_dim"]], s=28, zorder=2)
        others = t[t["reported"] & ~t["chosen"]]
        ax.scatter(others["coverage"], others["density"], s=140, facecolors="none", edgecolors="0.2", zorder=3)
        for c in t[t["chosen"]].itertuples():
            ax.scatter([c.coverage], [c.density], marker="*", s=320, color="#d62728", edgecolors="0.1", zorder=4)
            ax.annotate(f"chosen: coverage {c.coverage:.2f}\ndensity {c.density:.2f}, {c.k} of {c.n} cases",
                        (c.coverage, c.density), xytext=(8, -26), textcoords="offset points", fontsize=8.5)
        if min_density is not None:
            ax.axhline(min_density, color="#d62728", linestyle="--", linewidth=1)
        if base_rate is not None:
            ax.axhline(base_rate, color="0.4", linestyle=":", linewidth=1)
        ax.set(xlim=(-0.02, 1.05), ylim=(-0.02, 1.05), xlabel="coverage (share of all wins in the box)",
               ylabel="density (share of the box's cases that are wins)", title=f"box {b}")
    handles = [plt.Line2D([], [], marker="o", linestyle="none", color=colours[r]) for r in dims]
    names = [f"{r} key{'s' if r != 1 else ''} restricted" for r in dims]
    handles += [plt.Line2D([], [], marker="*", linestyle="none", color="#d62728", markersize=14),
                plt.Line2D([], [], marker="o", linestyle="none", markerfacecolor="none", color="0.2", markersize=10)]
    names += ["chosen point", "simpler rule (reported)"]
    if min_density is not None:
        handles.append(plt.Line2D([], [], color="#d62728", linestyle="--"))
        names.append(f"density threshold ({min_density:g})")
    if base_rate is not None:
        handles.append(plt.Line2D([], [], color="0.4", linestyle=":"))
        names.append(f"share of wins overall ({base_rate:.2f})")
    fig.legend(handles, names, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9)
    fig.suptitle(title or "Scenario discovery (PRIM): where distributed beats every central regime\n"
                          "peeling trajectory, coverage against density")
    fig.tight_layout()
    return _save(fig, path)


# --- the structure dial ------------------------------------------------------------------------

def dial_curves(summary: pd.DataFrame, path, value: str = "value_share", hue: str = "cfg.env.turbulence",
                col: str = "cfg.env.complexity", row: str = "cfg.org.name", title: str | None = None):
    """An outcome against the structure dial (`regime.centralisation` of the hybrid regime), one
    line per level of `hue` with its 95% CI band across seeds, in panels by `col` x `row`. Where
    the sweep also ran heroic on the same grid, its mean is a dashed line in the hue's colour."""
    from .dial import CENTRALISATION, dial_jobs
    from .stats import seed_means, t_interval

    _theme()
    jobs = dial_jobs(summary)
    hue, col, row = (_facet(jobs, c) for c in (hue, col, row))
    data = seed_means(jobs, [CENTRALISATION] + [c for c in (hue, col, row) if c], value)
    data, (y, x_l, hue_l, col_l, row_l) = _readable(data, [value, CENTRALISATION, hue, col, row])
    hues = sorted(data[hue_l].unique()) if hue_l else []
    colours = dict(zip(hues, sns.color_palette("rocket_r", len(hues) + 1)[1:])) if hues else None
    g = sns.relplot(data=data, x=x_l, y=y, hue=hue_l, palette=colours, col=col_l, row=row_l, kind="line",
                    errorbar=t_interval, marker="o", height=3.4, aspect=1.25, err_kws={"alpha": 0.15},
                    facet_kws={"margin_titles": row_l is not None}, legend="full")
    heroic = summary[summary["regime"] == "heroic"] if "regime" in summary else summary.iloc[0:0]
    if len(heroic):
        for (r, c), ax in g.axes_dict.items() if row_l and col_l else []:
            cell = heroic[(heroic[row].astype(str) == str(r)) & (heroic[col].astype(str) == str(c))]
            for h, sub in cell.groupby(hue) if hue else []:
                ax.axhline(sub[value].mean(), color=colours.get(h, "0.5"), linestyle="--", linewidth=1)
        g.figure.text(0.5, -0.07, "dashed: heroic on the same seeds (mean), in the colour of its turbulence",
                      ha="center", fontsize=9)
    for ax in g.axes.flat:
        ax.set_xticks(sorted(data[x_l].unique())[::2])
    if col_l or row_l:
        g.set_titles(col_template=f"{col_l} = {{col_name}}", row_template=f"{row_l} = {{row_name}}")
    g.set_axis_labels("centralisation\n(0: distributed … 1: hierarchical)", y)
    g.figure.suptitle(title or f"{label(value).capitalize()} along the structure dial (mean and 95% CI across "
                               f"seeds)", y=1.03)
    return _save(g.figure, path)


def dial_peaks(peaks: pd.DataFrame, path, x: str = "cfg.env.turbulence", col: str = "cfg.env.complexity",
               hue: str = "cfg.org.name", title: str | None = None):
    """Where the dial's mean curve peaks against `x`: the bootstrap median of the peak (dot) and its
    95% interval (bar), one colour per level of `hue`, panels by `col`; the observed peak of the
    mean curve is a cross."""
    _theme()
    cols = sorted(peaks[col].unique()) if col in peaks else [None]
    hues = sorted(peaks[hue].unique()) if hue in peaks else [None]
    colours = dict(zip(hues, sns.color_palette("Set2", len(hues))))
    xs = sorted(peaks[x].unique())
    step = (min(b - a for a, b in zip(xs, xs[1:])) if len(xs) > 1 else 1.0)
    fig, axes = plt.subplots(1, len(cols), figsize=(5.2 * len(cols) + 1.5, 4.2), squeeze=False, sharey=True)
    for ax, c in zip(axes.flat, cols):
        part = peaks[peaks[col] == c] if c is not None else peaks
        for i, h in enumerate(hues):
            sub = (part[part[hue] == h] if h is not None else part).sort_values(x)
            shift = (i - (len(hues) - 1) / 2) * 0.18 * step
            xx = sub[x].to_numpy(dtype=float) + shift
            ax.errorbar(xx, sub["peak_median"], yerr=[sub["peak_median"] - sub["peak_lo"],
                                                      sub["peak_hi"] - sub["peak_median"]],
                        fmt="o-", color=colours[h], capsize=4, label=f"{label(hue)} = {h}" if h is not None else None)
            ax.scatter(xx, sub["peak"], marker="x", color="0.2", zorder=3, s=30)
        ax.set(xticks=xs, ylim=(-0.05, 1.05), xlabel=label(x),
               ylabel="peak of the curve: centralisation", title=f"{label(col)} = {c:g}" if c is not None else "")
        ax.set_xticklabels([f"{v:g}" for v in xs])
    handles, names = axes.flat[0].get_legend_handles_labels()
    handles.append(plt.Line2D([], [], marker="x", linestyle="none", color="0.2"))
    names.append("peak of the mean curve")
    fig.legend(handles, names, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9)
    fig.suptitle(title or "Where the structure dial peaks: bootstrap median and 95% interval over seeds")
    fig.tight_layout()
    return _save(fig, path)

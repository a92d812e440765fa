"""Plain-text tables for the command line."""


def table(headers, rows):
    """A Markdown-style table that reads well in a terminal."""
    rows = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def fmt(value):
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def training_summary(result):
    """The end-of-training table: each metric beside its target and the baselines."""
    meta = result.metadata
    primary = meta["metric"]
    rows = [[meta["name"] + " (zoo)", primary, fmt(result.metrics[primary]),
             ("<= " if meta["goal"] == "min" else ">= ") + fmt(meta["target"]),
             "yes" if result.meets_target else "NO"]]
    for name, value in result.metrics.items():
        if name != primary:
            rows.append([meta["name"] + " (zoo)", name, fmt(value), "", ""])
    for name, value in result.baselines.items():
        rows.append(["baseline", name, fmt(value), "", ""])
    text = table(["model", "metric", f"{meta['split']} value", "target", "met"], rows)
    return (f"{text}\n\nbackend {meta['backend']}, seed {meta['seed']}, {meta['epochs']} epochs, "
            f"wall time {result.wall_time_s:.1f} s\nartifact: {result.artifact}")

"""Training curves as PNG bytes (matplotlib, no display needed)."""

import io


def _png(fig, title):
    """Title, lay out and close `fig`; its PNG bytes."""
    import matplotlib.pyplot as plt

    fig.suptitle(title)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return buffer.getvalue()


def training_curve_png(history, title):
    """A PNG of every series in `history` ({name: [per-epoch values]}), losses and
    metrics on separate axes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    losses = {k: v for k, v in history.items() if "loss" in k}
    others = {k: v for k, v in history.items() if "loss" not in k and k != "learning_rate"}
    fig, axes = plt.subplots(1, 2 if others else 1, figsize=(10 if others else 5, 3.5))
    axes = list(axes) if others else [axes]
    for ax, series, label in zip(axes, (losses, others), ("loss", "metric")):
        for name, values in series.items():
            ax.plot(range(1, len(values) + 1), values, label=name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.legend()
        ax.grid(alpha=0.3)
    return _png(fig, title)


def sample_grid_png(images, title, labels=None, columns=10):
    """A PNG grid of generated images (n, H, W, C), titled by their labels if given."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    images = np.asarray(images)
    rows = -(-len(images) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 0.8, rows * 0.8 + 0.4))
    for i, ax in enumerate(np.ravel(axes)):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i][..., 0] if images.shape[-1] == 1 else images[i], cmap="gray_r")
            if labels is not None:
                ax.set_title(str(int(labels[i])), fontsize=7)
    return _png(fig, title)

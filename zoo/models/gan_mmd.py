"""Kernel MMD between two image sets: what `GAN.loss_on` reports.

Squared maximum mean discrepancy (the biased V-statistic, >= 0, 0 only when the two
sets coincide) with a Gaussian kernel averaged over three bandwidths, 0.25, 1 and 4
times the median squared distance between the reference images. With labels, the
kernel is multiplied by [label_a == label_b]: the discrepancy of the joint (image, label)
distributions, so a conditional generator that ignores its labels scores badly.

Example:
    >>> import numpy as np
    >>> from zoo.models.gan_mmd import mmd2
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(50, 8)), rng.normal(size=(50, 8))
    >>> mmd2(a, a) == 0.0, mmd2(a, b) < mmd2(a, b + 3.0)
    (True, True)
"""

import numpy as np

BANDWIDTHS = (0.25, 1.0, 4.0)


def _squared_distances(u, v):
    return np.maximum((u * u).sum(1)[:, None] + (v * v).sum(1)[None, :] - 2.0 * u @ v.T, 0.0)


def mmd2(reference, samples, reference_labels=None, sample_labels=None):
    """Squared kernel MMD between `reference` and `samples` (arrays, first axis = items)."""
    a = np.asarray(reference, dtype="float64").reshape(len(reference), -1)
    b = np.asarray(samples, dtype="float64").reshape(len(samples), -1)
    d_aa, d_bb, d_ab = _squared_distances(a, a), _squared_distances(b, b), _squared_distances(a, b)
    off_diagonal = d_aa[np.triu_indices(len(a), 1)]
    scale = float(np.median(off_diagonal)) if off_diagonal.size else 0.0
    scale = scale if scale > 0 else 1.0

    def kernel(d):
        return sum(np.exp(-d / (s * scale)) for s in BANDWIDTHS) / len(BANDWIDTHS)

    k_aa, k_bb, k_ab = kernel(d_aa), kernel(d_bb), kernel(d_ab)
    if reference_labels is not None:
        la, lb = np.asarray(reference_labels), np.asarray(sample_labels)
        k_aa = k_aa * (la[:, None] == la[None, :])
        k_bb = k_bb * (lb[:, None] == lb[None, :])
        k_ab = k_ab * (la[:, None] == lb[None, :])
    return max(float(k_aa.mean() + k_bb.mean() - 2.0 * k_ab.mean()), 0.0)

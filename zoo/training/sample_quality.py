"""Sample quality of generated images, judged by a trained classifier (the "judge").

- `judge_features`: the judge's penultimate activations (the input of its final Dense
  layer, named "head" in zoo classifiers), the feature space of `frechet_distance`;
- `frechet_distance`: the Frechet (FID) distance between two feature sets;
- `conditional_accuracy`: how often the judge sees the class a sample was conditioned on.

In production the judge is the pretrained `convnet.digits`; any Keras classifier with a
Dense head works.

Example:
    >>> import numpy as np
    >>> from zoo.training.sample_quality import frechet_distance
    >>> a = np.random.default_rng(0).normal(size=(500, 3))
    >>> round(frechet_distance(a, a + [1.0, 2.0, 2.0]), 6)
    9.0
"""

import weakref

import keras
import numpy as np

_EXTRACTORS = weakref.WeakKeyDictionary()  # judge -> its feature model (compiled once)


def _extractor(judge_model):
    if judge_model not in _EXTRACTORS:
        names = [layer.name for layer in judge_model.layers]
        head = judge_model.get_layer("head") if "head" in names else judge_model.layers[-1]
        _EXTRACTORS[judge_model] = keras.Model(judge_model.inputs, head.input)
    return _EXTRACTORS[judge_model]


def judge_features(judge_model, images, batch_size=256):
    """Penultimate-layer activations of `judge_model` (inference mode), float64 (n, d)."""
    features = _extractor(judge_model).predict(np.asarray(images, "float32"), batch_size=batch_size, verbose=0)
    return np.asarray(keras.ops.convert_to_numpy(features), "float64").reshape(len(images), -1)


def _psd_sqrt(matrix):
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(features_a, features_b):
    """||mu_a - mu_b||^2 + Tr(C_a + C_b - 2 (C_a C_b)^(1/2)) of two (n, d) feature sets.

    Tr((C_a C_b)^(1/2)) is computed as the sum of square roots of the eigenvalues of the
    symmetric PSD matrix C_a^(1/2) C_b C_a^(1/2) (eigh, negatives from round-off
    clipped to 0): no complex square roots and exact for singular covariances (fewer
    samples than features). Never negative.
    """
    a = np.asarray(features_a, "float64")
    b = np.asarray(features_b, "float64")
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"frechet_distance expects two (n, d) feature arrays with the same d "
                         f"and n >= 2, got shapes {a.shape} and {b.shape}.")
    cov_a, cov_b = np.cov(a, rowvar=False, ddof=1), np.cov(b, rowvar=False, ddof=1)
    root_a = _psd_sqrt(cov_a)
    cross = root_a @ cov_b @ root_a
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((cross + cross.T) / 2), 0, None)).sum()
    mean_term = float(np.sum((a.mean(0) - b.mean(0)) ** 2))
    return max(mean_term + float(np.trace(cov_a) + np.trace(cov_b) - 2 * trace_sqrt), 0.0)


def fid(judge_model, images_a, images_b):
    """Frechet distance between two image sets in the judge's feature space."""
    return frechet_distance(judge_features(judge_model, images_a),
                            judge_features(judge_model, images_b))


def conditional_accuracy(judge, images, labels, batch_size=256):
    """Fraction of `images` that `judge` classifies as their `labels` (int class ids)."""
    labels = np.asarray(labels)
    if labels.shape != (len(images),):
        raise ValueError(f"conditional_accuracy expects one int label per image, shape "
                         f"({len(images)},), got {labels.shape}.")
    probabilities = keras.ops.convert_to_numpy(
        judge.predict(np.asarray(images, "float32"), batch_size=batch_size, verbose=0))
    predicted = (probabilities[:, 0] > 0.5 if probabilities.shape[-1] == 1
                 else probabilities.argmax(-1))
    return float(np.mean(predicted == labels))

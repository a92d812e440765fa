"""Sample quality of a trained GAN, judged by the pretrained classifier of its dataset.

The judge of dataset D is the pretrained `convnet.D` (for digits: `convnet.digits`).
Reported, all on 1,000 generated samples:

- `frechet_distance`: Frechet distance between the judge's penultimate features of the
  samples and of the real test images;
- `frechet_floor`: the same between real training and real test images;
- `frechet_untrained`: the same for an untrained generator of the same configuration;
- `frechet_ratio`: frechet_distance / frechet_floor (1.0: as close to the test images
  as real images are);
- `conditional_accuracy` (conditional GANs): how often the judge sees the class each
  sample was conditioned on (labels cycle through the classes).
"""

import numpy as np

from zoo.training import sample_quality

N_SAMPLES = 1000
SEED = 0


def judge_for(dataset):
    import zoo

    return zoo.load(f"convnet.{dataset}", compile=False)


def _labels(model, n):
    return None if not model.num_classes else np.arange(n) % model.num_classes


def quality(model, x_test, context):
    """Every sample-quality number of `model` (see the module docstring)."""
    judge = judge_for(context["dataset"])
    labels = _labels(model, N_SAMPLES)
    samples = model.generate(N_SAMPLES, labels=labels, seed=SEED)
    untrained = model.__class__.from_config(model.get_config())
    untrained_samples = untrained.generate(N_SAMPLES, labels=labels, seed=SEED)
    test = sample_quality.judge_features(judge, x_test)
    distance = sample_quality.frechet_distance(
        sample_quality.judge_features(judge, samples), test)
    floor = sample_quality.frechet_distance(
        sample_quality.judge_features(judge, context["x_train"]), test)
    result = {
        "frechet_ratio": distance / floor,
        "frechet_distance": distance,
        "frechet_floor": floor,
        "frechet_untrained": sample_quality.frechet_distance(
            sample_quality.judge_features(judge, untrained_samples), test),
    }
    if labels is not None:
        result["conditional_accuracy"] = sample_quality.conditional_accuracy(
            judge, samples, labels)
    return result

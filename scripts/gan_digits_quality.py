"""How long a conditional GAN needs on digits to draw the digit it is asked for.

Trains a quick judge (a zoo ConvNet) and a `conditional_gan` on the train split of
`zoo.data` "digits" (stratified, 1257 images), and every few epochs reports:
- cond_acc: the judge's accuracy on `len(train)` samples conditioned on the train labels;
- fid_ratio: FID(samples, test) / FID(train, test) in the judge's feature space (1.0:
  the samples are as close to the test images as the real training images are).

Usage (prints one line per evaluation, then a JSON summary):
    OMP_NUM_THREADS=1 KERAS_BACKEND=torch python scripts/gan_digits_quality.py --epochs 150
"""

import argparse
import json
import time

import keras

import zoo
from zoo import data
from zoo.training import sample_quality


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--eval-every", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--latent-dim", type=int, default=32)
    parser.add_argument("--generator-filters", type=int, nargs="+", default=[128, 64])
    parser.add_argument("--discriminator-filters", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--dropout", type=float, default=0.3)
    parser.add_argument("--learning-rate", type=float, default=2e-4, help="both optimizers")
    parser.add_argument("--judge-epochs", type=int, default=30)
    parser.add_argument("--target", type=float, default=0.90)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def train_judge(train, val, epochs, seed):
    keras.utils.set_random_seed(seed)
    judge = zoo.ConvNet(input_shape=(8, 8, 1), num_classes=10, filters=(32, 64),
                        padding="same", rescale=1 / 16, dense_units=64, dropout=0.3)
    judge.compile(optimizer=keras.optimizers.Adam(1e-3))
    judge.fit(*train, epochs=epochs, batch_size=64, verbose=0)
    return judge, sample_quality.conditional_accuracy(judge, *val)


def main():
    args = parse_args()
    parts = data.load_splits("digits")
    (x_train, y_train), (x_test, y_test) = parts["train"], parts["test"]
    judge, judge_acc = train_judge(parts["train"], parts["val"], args.judge_epochs, args.seed)
    test_features = sample_quality.judge_features(judge, x_test)
    fid_real = sample_quality.frechet_distance(
        sample_quality.judge_features(judge, x_train), test_features)
    print(f"judge val accuracy {judge_acc:.3f}; FID(train, test) {fid_real:.3f}", flush=True)

    keras.utils.set_random_seed(args.seed)
    gan = zoo.ConditionalGAN(image_shape=(8, 8, 1), num_classes=10, latent_dim=args.latent_dim,
                             generator_filters=tuple(args.generator_filters),
                             discriminator_filters=tuple(args.discriminator_filters),
                             dropout=args.dropout, data_range=(0.0, 16.0))
    gan.compile(optimizer=keras.optimizers.Adam(args.learning_rate, beta_1=0.5))
    rows, started, reached = [], time.perf_counter(), None
    for epoch in range(args.eval_every, args.epochs + 1, args.eval_every):
        history = gan.fit(x_train, y_train, epochs=epoch, initial_epoch=epoch - args.eval_every,
                          batch_size=args.batch_size, verbose=0)
        minutes = (time.perf_counter() - started) / 60
        samples = gan.generate(len(y_train), labels=y_train, seed=epoch)
        acc = sample_quality.conditional_accuracy(judge, samples, y_train)
        fid = sample_quality.frechet_distance(sample_quality.judge_features(judge, samples),
                                              test_features)
        row = dict(epoch=epoch, minutes=round(minutes, 2), cond_acc=round(acc, 3),
                   fid=round(fid, 3), fid_ratio=round(fid / fid_real, 2),
                   d_loss=round(history.history["d_loss"][-1], 3),
                   g_loss=round(history.history["g_loss"][-1], 3))
        rows.append(row)
        print(json.dumps(row), flush=True)
        if reached is None and acc >= args.target:
            reached = row
    print(json.dumps({"backend": keras.backend.backend(), "args": vars(args),
                      "judge_val_accuracy": round(judge_acc, 3), "fid_train_test": fid_real,
                      "first_reaching_target": reached,
                      "best_cond_acc": max(rows, key=lambda r: r["cond_acc"]),
                      "best_fid_ratio": min(rows, key=lambda r: r["fid_ratio"])}))


if __name__ == "__main__":
    main()

"""The `zoo` command: train, evaluate and list models.

    zoo list
    zoo train recipes/convnet.digits.yaml [--backend torch] [--epochs N] [--seed S]
              [--output DIR] [--resume] [--distribute]
    zoo evaluate ARTIFACT_DIR [--split test]
    zoo publish ARTIFACT_DIR --repo org/name [--revision BRANCH] [--private] [--create-pr]
                [--force]
"""

import argparse
import os
import sys

BACKENDS = ("torch", "tensorflow", "jax")


def _parser():
    parser = argparse.ArgumentParser(prog="zoo", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a recipe and write its artifact")
    p.add_argument("recipe", help="path of a recipe YAML file (recipes/*.yaml)")
    p.add_argument("--backend", choices=BACKENDS, help="Keras backend (default: torch)")
    p.add_argument("--epochs", type=int, help="override the recipe's epochs")
    p.add_argument("--seed", type=int, help="override the recipe's seed")
    p.add_argument("--output", help="artifact directory (default runs/<recipe name>)")
    p.add_argument("--resume", action="store_true",
                   help="continue from the last checkpoint in the output directory")
    p.add_argument("--quiet", action="store_true", help="no per-epoch progress bars")
    p.add_argument("--distribute", action="store_true",
                   help="train data-parallel over all local devices (and hosts, when "
                        "launched with torchrun / TF_CONFIG / KERAS_DISTRIBUTION_*): see "
                        "docs/distributed.md")

    p = sub.add_parser("evaluate", help="evaluate an artifact on a split of its dataset")
    p.add_argument("model", help="artifact directory or pretrained name (arch.tag)")
    p.add_argument("--split", default=None, help="split to evaluate (default: test)")
    p.add_argument("--backend", choices=BACKENDS)

    p = sub.add_parser("publish", help="validate an artifact and upload it to the Hugging Face Hub")
    p.add_argument("artifact", help="artifact directory (what `zoo train` wrote)")
    p.add_argument("--repo", required=True, help="Hub repository, org/name")
    p.add_argument("--revision", help="branch to commit to, created if new (default: main)")
    p.add_argument("--private", action="store_true", help="create the repository as private")
    p.add_argument("--create-pr", action="store_true",
                   help="open a pull request against main instead of committing")
    p.add_argument("--force", action="store_true",
                   help="publish even though the model misses its target")

    p = sub.add_parser("list", help="architectures and pretrained variants")
    p.add_argument("filter", nargs="?", default=None, help="glob, e.g. 'lstm_*'")
    return parser


def _ensure_backend(backend):
    """Re-run this command in a fresh process when another backend was asked for
    (Keras fixes its backend at import time)."""
    import keras

    if backend and keras.backend.backend() != backend:
        env = {**os.environ, "KERAS_BACKEND": backend}
        os.execve(sys.executable, [sys.executable, "-m", "zoo.cli", *sys.argv[1:]], env)


def _train(args):
    from pathlib import Path

    from zoo.training.recipe import load_recipe
    from zoo.training.report import training_summary
    from zoo.training.trainer import train

    recipe = load_recipe(args.recipe)  # fails before any training on a bad recipe
    _keep_heap()
    if args.distribute:
        from zoo.backend.distribute import relaunch_command

        command = relaunch_command(sys.argv[1:])
        if command:  # torch with several GPUs, not under torchrun: one process per GPU
            os.execv(command[0], command)
    output = Path(args.output or Path("runs") / recipe.name)
    result = train(recipe, output, resume=args.resume, epochs=args.epochs, seed=args.seed,
                   verbose=0 if args.quiet else "auto", distribute=args.distribute)
    if not result.is_chief:  # the chief prints the summary
        return 0 if result.meets_target else 3
    print()
    print(training_summary(result))
    return 0 if result.meets_target else 3


def _keep_heap():
    """Large per-step temporaries reused from the heap (`zoo.training.allocator`), unless
    ZOO_MALLOC=default."""
    from zoo.training import allocator

    choice = os.environ.get("ZOO_MALLOC", "keep")
    if choice not in ("keep", "default"):
        raise SystemExit(f"zoo: ZOO_MALLOC is 'keep' (the default: large freed blocks "
                         f"stay in the heap) or 'default' (glibc's malloc), got {choice!r}")
    if choice == "keep":
        allocator.keep_heap()


def _evaluate(args):
    from zoo.training.evaluate import evaluate_artifact
    from zoo.training.report import fmt, table

    meta, metrics = evaluate_artifact(args.model, split=args.split)
    rows = [[meta["name"], meta["dataset"], meta["split_evaluated"], k, fmt(v)]
            for k, v in metrics.items()]
    print(table(["model", "dataset", "split", "metric", "value"], rows))
    return 0


def _publish(args):
    from zoo.artifacts import ArtifactError
    from zoo.hub import HubError
    from zoo.publish import publish

    try:  # the token comes from HF_TOKEN or `hf auth login`, never from the command line
        publish(args.artifact, args.repo, revision=args.revision, private=args.private,
                create_pr=args.create_pr, force=args.force)
    except (ArtifactError, HubError, ValueError) as err:
        print(f"zoo: {err}", file=sys.stderr)
        return 1
    return 0


def _list(args):
    import zoo
    from zoo import registry
    from zoo.training.report import fmt, table

    rows = [[a.name, a.family, a.description] for a in registry.architectures()
            if a.name in zoo.list_models(args.filter)]
    print(table(["architecture", "family", "description"], rows))
    variants = [registry.get_pretrained(n) for n in zoo.list_models(args.filter, pretrained=True)]
    print()
    if variants:
        print(table(["pretrained", "dataset", "metrics", "target"],
                    [[v.name, v.dataset, ", ".join(f"{k} {fmt(m)}" for k, m in v.metrics.items()),
                      ", ".join(f"{k} {t}" for k, t in v.target.items())] for v in variants]))
    else:
        print("no pretrained variants match")
    return 0


def main(argv=None):
    args = _parser().parse_args(argv)
    _ensure_backend(getattr(args, "backend", None))
    from zoo.training.recipe import RecipeError

    try:
        return {"train": _train, "evaluate": _evaluate, "list": _list,
                "publish": _publish}[args.command](args)
    except RecipeError as err:
        print(f"zoo: bad recipe: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

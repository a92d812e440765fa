"""Train the offline recipes (or take finished runs) and bundle their artifacts into the
package: zoo/pretrained/<name>/ plus an entry in zoo/pretrained/catalog.json with the
sha256 of every file, its metrics and target.

    python scripts/bundle_pretrained.py recipes/convnet.digits.yaml [...] [--from-runs DIR]

A run that misses its recipe's target is refused. The hub repo and revision of an
entry are kept when it is re-bundled with the same files; they are filled in by
`scripts/publish_all.py`.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import zoo  # noqa: F401  (selects the backend, registers the models)
from zoo import artifacts
from zoo.publish import file_checksums, prepare
from zoo.training.recipe import load_recipe
from zoo.training.trainer import train

PACKAGE = Path(zoo.__file__).parent
CATALOG = PACKAGE / "pretrained" / "catalog.json"
HUB_ORG = "keras-zoo"


def _catalog():
    return {e["name"]: e for e in json.loads(CATALOG.read_text())} if CATALOG.is_file() else {}


def _write_catalog(entries):
    text = json.dumps([entries[k] for k in sorted(entries)], indent=2) + "\n"
    fd, tmp = tempfile.mkstemp(dir=CATALOG.parent, suffix=".json")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, CATALOG)


def bundle(recipe_path, run_dir=None):
    recipe = load_recipe(recipe_path)
    if run_dir is None or not (Path(run_dir) / "metadata.json").is_file():
        run_dir = Path(tempfile.mkdtemp(prefix=f"{recipe.name}-"))
        train(recipe, run_dir, verbose=0)
    meta = artifacts.verify_artifact(run_dir)["zoo"]
    if not meta["meets_target"]:
        raise SystemExit(f"{recipe.name}: {meta['metric']} {meta['metrics'][meta['metric']]} "
                         f"misses its target {meta['target']}; not bundled.")
    target = PACKAGE / "pretrained" / recipe.name
    staging = Path(tempfile.mkdtemp(dir=PACKAGE / "pretrained", prefix=".staging-"))
    artifacts.copy_artifact(run_dir, staging)
    if target.exists():
        shutil.rmtree(target)
    os.replace(staging, target)
    entries = _catalog()
    old = entries.get(recipe.name, {})
    hub_repo = old.get("hub_repo", f"{HUB_ORG}/{recipe.name.replace('.', '-')}")
    # The card names the Hub copy, so the bundled files are byte for byte what
    # scripts/publish_all.py uploads and one set of checksums covers both.
    prepare(target, hub_repo)
    files = file_checksums(target)
    same_files = old.get("files") == files
    entries[recipe.name] = {
        "name": recipe.name,
        "architecture": recipe.architecture,
        "dataset": recipe.data.dataset,
        "scheme": meta["scheme"],
        "data_options": dict(recipe.data.options),
        "recipe": f"recipes/{recipe.name}.yaml",
        "config": dict(recipe.model.config),
        "metrics": meta["metrics"],
        "target": {meta["metric"]: meta["target"]},
        "license": recipe.license,
        "hub_repo": hub_repo,
        "revision": old.get("revision") if same_files else None,
        "files": files,
        "bundled": f"pretrained/{recipe.name}",
    }
    _write_catalog(entries)
    print(f"{recipe.name}: {meta['metric']} {meta['metrics'][meta['metric']]:.4f} "
          f"(target {meta['target']}), {meta['backend']}, bundled in {target}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("recipes", nargs="+")
    parser.add_argument("--from-runs", help="folder of finished runs named after recipes")
    args = parser.parse_args(argv)
    (PACKAGE / "pretrained").mkdir(exist_ok=True)
    for path in args.recipes:
        name = Path(path).stem
        run = Path(args.from_runs) / name if args.from_runs else None
        bundle(path, run)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Publish every bundled pretrained variant to its Hub repository, then print what to pin.

    python scripts/publish_all.py [--dry-run] [--only 'convnet.*']

For each variant of the catalogue with a bundled artifact and a `hub_repo`: check the
bundled files against the catalogue's sha256, skip it when its pinned revision on the Hub
already holds exactly these files, otherwise validate it, write its model card for the
repository into the bundled artifact (README.md and metadata.json change: that is why
new `files` are printed too) and upload it in one commit. `--dry-run` changes nothing,
here or on the Hub. The token comes from HF_TOKEN or `hf auth login`.

Ends with a JSON object {name: {"hub_repo", "revision", "files"}} of the variants whose
pins changed, for the catalogue (zoo/pretrained/catalog.json).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys

import zoo  # noqa: F401  (selects the backend, registers the models and the catalogue)
from zoo import loading, registry
from zoo.artifacts import ArtifactError
from zoo.hub import HubError
from zoo.publish import file_checksums, is_published, publish
from zoo.training.report import table


def publish_variant(variant, *, dry_run=False):
    """(status, revision, new pin or None) for one bundled variant."""
    if not variant.hub_repo:
        return "no hub_repo in the catalogue", "", None
    folder = loading.verified_bundled_folder(variant)
    if variant.revision and is_published(folder, variant.hub_repo, variant.revision):
        return "up to date", variant.revision, None
    if dry_run:
        return "would publish", variant.revision or "", None
    result = publish(folder, variant.hub_repo, log=lambda *args: None)
    pin = {"hub_repo": variant.hub_repo, "revision": result.commit_sha,
           "files": file_checksums(folder)}
    return "published", result.commit_sha, pin


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dry-run", action="store_true",
                        help="show what would be published; change nothing")
    parser.add_argument("--only", default="*", help="glob of variant names, e.g. 'convnet.*'")
    args = parser.parse_args(argv)

    rows, pins, failed = [], {}, False
    for variant in registry.pretrained_variants():
        if not variant.bundled or not fnmatch.fnmatchcase(variant.name, args.only):
            continue
        try:
            status, revision, pin = publish_variant(variant, dry_run=args.dry_run)
        except (ArtifactError, HubError, ValueError) as err:
            status, revision, pin, failed = f"FAILED: {err}", "", None, True
        rows.append([variant.name, variant.hub_repo or "-", status, revision or "-"])
        if pin:
            pins[variant.name] = pin
    if not rows:
        print(f"no bundled variants match {args.only!r}")
        return 1
    print(table(["variant", "hub repo", "status", "revision"], rows))
    if pins:
        print("\nPin these in the catalogue (revision and files of each published variant):")
        print(json.dumps(pins, indent=2, sort_keys=True))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

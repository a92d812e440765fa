"""zoo.training.allocator: large freed blocks stay in the heap (glibc), measured as the
page faults of re-allocating a 64 MiB torch tensor in a fresh process."""

import json
import subprocess
import sys

import pytest

from tests.helpers import REPO_ROOT
from zoo.training import allocator

pytestmark = pytest.mark.skipif(allocator._glibc_mallopt() is None,
                                reason="glibc's malloc only")

PROBE = """
import json, resource, sys
import torch
if sys.argv[1] == "keep":
    from zoo.training import allocator
    assert allocator.keep_heap()
faults = []
for _ in range(8):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    x = torch.empty(16 << 20, dtype=torch.float32).fill_(1.0)  # 64 MiB, touched
    del x
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(json.dumps(faults))
"""


def _faults(mode):
    out = subprocess.run([sys.executable, "-c", PROBE, mode], cwd=REPO_ROOT, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_a_freed_large_block_is_reused_instead_of_faulted_in_again():
    pytest.importorskip("torch")
    default, kept = _faults("default"), _faults("keep")
    pages = (64 << 20) // 4096
    # glibc's default: every allocation is fresh pages (each faulted in)
    assert min(default[1:]) > pages // 2, default
    # kept: the heap grows over the first allocations (observed: two of the first three
    # fault their pages in), then every allocation reuses it
    assert max(kept[4:]) < pages // 20 and sum(kept) < 3.5 * pages, kept


def test_bad_threshold_is_refused():
    with pytest.raises(ValueError, match="number of bytes"):
        allocator.keep_heap(0)
    with pytest.raises(ValueError, match="number of bytes"):
        allocator.keep_heap(2**31)

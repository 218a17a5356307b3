"""Seeds derived from an experiment's seed (anatomy_lib.training.seeds)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from anatomy_lib.training.seeds import derive_seed, seeded_generator

PARTS = [
    (0, "init"),
    (0, "batch", 3, 7),
    (1, "batch", 3, 7),
    (0, "batch", 7, 3),
    (0, "dropout", 3, 7, 0),
]


def test_a_seed_is_a_non_negative_63_bit_int_and_repeats():
    for parts in PARTS:
        seed = derive_seed(*parts)
        assert isinstance(seed, int) and 0 <= seed < 2**63
        assert derive_seed(*parts) == seed


def test_different_parts_give_different_seeds():
    seeds = {derive_seed(*parts) for parts in PARTS}
    assert len(seeds) == len(PARTS)
    # The order of the parts counts.
    assert derive_seed(3, 7) != derive_seed(7, 3)
    assert derive_seed(0, "engine", 1) != derive_seed(0, "engine", 2)


def test_strings_count_by_their_first_eight_bytes():
    assert derive_seed(0, "dropout") != derive_seed(0, "dropout2")
    assert derive_seed(0, "abcdefgh") == derive_seed(0, "abcdefghXYZ")


def test_the_same_in_a_new_interpreter():
    """No per-process state (such as Python's string hash salt) enters the seed: a resumed
    run in a new process draws what the interrupted one would have."""
    code = (
        "from anatomy_lib.training.seeds import derive_seed;"
        "print(derive_seed(5, 'engine', 12), derive_seed(0, 'order', 3))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "random"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    out = done.stdout.split()
    assert [int(v) for v in out] == [derive_seed(5, "engine", 12), derive_seed(0, "order", 3)]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_seeded_generator_draws_as_a_generator_seeded_by_hand(dtype):
    parts = (2, "fill", 4, 9)
    a = torch.rand(16, generator=seeded_generator(*parts), dtype=dtype)
    b = torch.rand(16, generator=torch.Generator().manual_seed(derive_seed(*parts)), dtype=dtype)
    c = torch.rand(16, generator=seeded_generator(2, "fill", 4, 10), dtype=dtype)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)

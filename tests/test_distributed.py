"""DDP through torchrun: 2 CPU processes on gloo match one process on the same total batch.

Each process trains on its half of the global batch; DDP averages the gradients. The
reference runs in this process: the same global batches, each half through the model
separately (BatchNorm statistics per half, as per process), gradients averaged, then the
same optimiser step. Tolerance: the two sum the half-gradients in a different order
(gloo all-reduce vs autograd accumulation), so parameters agree to float32 rounding
amplified over a few Adam steps (rtol 1e-4, atol 1e-6), not bit for bit. BatchNorm running
statistics are not compared, nor the parameters whose exact gradient is zero (see
``_zero_true_gradient``): DDP broadcasts rank 0's buffers, which are computed from
its half only (they do not influence training-mode outputs).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from anatomy_lib.training.config import ExperimentConfig
from anatomy_lib.training.distributed import DistributedContext
from anatomy_lib.training.trainer import Trainer

ROOT = Path(__file__).resolve().parents[1]
OVERRIDES = ["optim.eval_every=0", "model.dropout=0.2", "optim.batch_size=16", "optim.epochs=2",
             "optim.steps_per_epoch=2", "optim.augmented_batch_size=8"]  # fmt: skip

WORKER = textwrap.dedent(
    """
    import sys
    import torch
    from anatomy_lib.training.config import ExperimentConfig
    from anatomy_lib.training.distributed import shutdown_distributed
    from anatomy_lib.training.trainer import Trainer

    exp = ExperimentConfig.preset("full@tiny").override(sys.argv[2:])
    trainer = Trainer(exp, progress=False)
    assert trainer.dist.world_size == 2 and trainer.dist.backend == "gloo"
    trainer.fit()
    if trainer.dist.is_main:
        torch.save(dict(trainer.model.named_parameters()), sys.argv[1])
    shutdown_distributed()
    """
)


def _zero_true_gradient(name: str) -> bool:
    """Parameters whose exact gradient is zero, so that Adam turns rounding noise into
    learning-rate-sized steps in either run: biases feeding a BatchNorm (the length
    network's linear layers) and the attention bias (a per-bone constant added to the
    logits of a softmax over frames)."""
    if name == "length.attention.bias":
        return True
    return name.startswith(("length.input.", "length.blocks.")) and name.endswith(".bias")


def _reference() -> dict[str, torch.Tensor]:
    exp = ExperimentConfig.preset("full@tiny").override(OVERRIDES)
    tr = Trainer(exp, progress=False, distributed=DistributedContext())
    world = 2
    for epoch in range(exp.optim.epochs):
        tr._start_epoch(epoch)
        for step in range(tr.steps_per_epoch):
            tr.model.train()
            tr.optimizer.zero_grad(set_to_none=True)
            batch = tr.make_batch(epoch, step)
            for rank in range(world):
                share = batch.shard(DistributedContext(rank, world))
                total, _ = tr.objective_on(share, epoch, step, rank=rank)
                (total / world).backward()
            tr.optimizer.step()
    return {k: v.detach() for k, v in tr.model.named_parameters()}


@pytest.mark.slow
def test_two_gloo_processes_match_one_process(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    out = tmp_path / "ddp.pt"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           str(script), str(out), *OVERRIDES]  # fmt: skip
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ddp = torch.load(out)
    ref = _reference()
    assert ddp.keys() == ref.keys()
    initial = Trainer(
        ExperimentConfig.preset("full@tiny").override(OVERRIDES), progress=False
    ).model
    initial_params = dict(initial.named_parameters())
    moved = 0
    for name, value in ref.items():
        moved += int(not torch.equal(value, initial_params[name].detach()))
        if not _zero_true_gradient(name):
            torch.testing.assert_close(ddp[name], value, rtol=1e-4, atol=1e-6, msg=name)
    assert moved > len(ref) // 2  # training did change the weights


def test_shards_split_the_batch_evenly():
    parts = [DistributedContext(r, 4).shard(16) for r in range(4)]
    assert [(p.start, p.stop) for p in parts] == [(0, 4), (4, 8), (8, 12), (12, 16)]
    with pytest.raises(ValueError, match="does not split evenly"):
        DistributedContext(0, 3).shard(16)
    assert not DistributedContext().enabled and DistributedContext(1, 2).enabled

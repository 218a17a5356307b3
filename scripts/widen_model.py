"""Write a wider copy of a trained model that computes the same function
(:func:`anatomy_lib.models.widen.widen_model`), to continue training it with more channels::

    python scripts/widen_model.py anatomy_medium --channels 448 --out runs/wide/start.pt
    anatomy3d train full@medium model.channels=448 init_weights=runs/wide/start.pt ...

The source is a shipped name, a model file or a run folder (as ``init_weights`` takes it).
The copies and the readers' shares are drawn from ``--seed``; the same arguments write the
same weights. The script compares the two models' joints on random windows before it writes
(the largest difference printed, in metres) and refuses, with exit status 2, a model it
cannot widen or a result that differs by more than ``TOLERANCE_M``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from anatomy_lib.models import AnatomyModel  # noqa: E402
from anatomy_lib.models.checkpoints import save_model  # noqa: E402
from anatomy_lib.models.widen import widen_model  # noqa: E402
from anatomy_lib.training.model_files import load_model_file  # noqa: E402

#: Largest difference of the joints (m) that still counts as the same function (float32).
TOLERANCE_M = 1e-4


def largest_difference(model, wide, windows: int = 8, seed: int = 0) -> float:
    """Largest absolute difference (m) of the two models' joints on random windows."""
    g = torch.Generator().manual_seed(seed)
    config = model.config
    joints = config.skeleton_tree.num_joints
    shape = (windows, config.receptive_field, joints)
    keypoints = torch.randn(*shape, 2, generator=g) * 0.3
    scores = torch.rand(*shape, generator=g)
    with torch.no_grad():
        if isinstance(model, AnatomyModel):
            frames = torch.randn(windows, config.sampled_frames, joints, 2, generator=g) * 0.3
            old = model(keypoints, scores, frames).joints
            new = wide(keypoints, scores, frames).joints
        else:
            old, new = model(keypoints, scores), wide(keypoints, scores)
    return float((old - new).abs().max())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="shipped name, model file or run folder")
    parser.add_argument("--channels", type=int, required=True, help="the new width")
    parser.add_argument("--seed", type=int, default=0, help="draws the copies and shares")
    parser.add_argument("--split", choices=("random", "even"), default="random")
    parser.add_argument("--out", type=Path, required=True, help="model file to write")
    args = parser.parse_args(argv)
    try:
        model = load_model_file(args.source).eval()
        wide = widen_model(
            model, args.channels, args.split, torch.Generator().manual_seed(args.seed)
        ).eval()
    except (FileNotFoundError, ValueError) as exc:
        parser.error(str(exc))
    difference = largest_difference(model, wide)
    if not difference <= TOLERANCE_M:
        parser.error(
            f"the widened model's joints differ from the source's by {difference:.1e} m on "
            f"random windows (expected at most {TOLERANCE_M:g} m); nothing written"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_model(wide, args.out)
    print(
        f"wrote {args.out}: {model.config.channels} -> {args.channels} channels, "
        f"{sum(p.numel() for p in wide.parameters()):,} parameters, largest difference "
        f"{difference:.1e} m on random windows"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

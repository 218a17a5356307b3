"""Does a body's definition of its joints, or the camera, turn the lifted body? Synthetic
probes on the engine's validation clips and bodies.

The embedded test split's CMU01 is lifted tilted by 4-5 degrees about the camera's x axis in
each of its four cameras (``benchmarks/orientation_errors.py``). Before blaming its motion,
this script rules out what can be tried without the test data: the same held-out clips and
ANSUR bodies as the trainer's validation videos (no recombined limbs), seen by the engine's
random cameras or by Human3.6M-like ones, with the thorax lowered down the trunk
(:func:`~anatomy_lib.data.bodies.lower_thorax`) and with CMU01's median bone lengths (its
converter's definitions of every joint; only those lengths are read from the test subject,
not its motion, detections or errors).

Prints one JSON object: per model and probe, P1 / P2 / P1 after the best rotation (mm), the
mean rotation of the body about each camera axis and its standard deviation (degrees), as
``benchmarks/orientation_errors.py`` computes them.

    python benchmarks/definition_probes.py [--model NAME_OR_PATH ...] [--threads 2]
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _model_report import model_report  # noqa: E402
from orientation_errors import orientation_errors  # noqa: E402

from anatomy_lib.bones import joints_to_bones  # noqa: E402
from anatomy_lib.data import load_default_dataset  # noqa: E402
from anatomy_lib.data.bodies import lower_thorax  # noqa: E402
from anatomy_lib.data.engine import EngineConfig, TrainingDataEngine  # noqa: E402
from anatomy_lib.data.joint_limits import within_limits  # noqa: E402
from anatomy_lib.data.sequences import PoseDataset  # noqa: E402
from anatomy_lib.data.virtual_cameras import VirtualCameraConfig  # noqa: E402
from anatomy_lib.training.engine_data import VALIDATION_SEED  # noqa: E402


@dataclass(frozen=True)
class Probe:
    """One version of the validation videos.

    Attributes:
        body: ``None`` (the held-out ANSUR bodies) or an embedded subject whose median bone
            lengths every video gets.
        thorax_drop: :func:`lower_thorax`'s fraction, the same for every video.
        cameras: the engine's random cameras or ``VirtualCameraConfig.human36m_like()``.
    """

    body: str | None = None
    thorax_drop: float = 0.0
    cameras: Literal["random", "human36m_like"] = "random"


PROBES = {
    "table definitions, random cameras": Probe(),
    "table definitions, Human3.6M-like cameras": Probe(cameras="human36m_like"),
    "thorax lowered by 0.12 of the trunk": Probe(thorax_drop=0.12),
    "thorax lowered by 0.24 of the trunk": Probe(thorax_drop=0.24),
    "CMU01's bone lengths, Human3.6M-like cameras": Probe(body="CMU01", cameras="human36m_like"),
    "CMU01's bone lengths, thorax lowered by 0.2, Human3.6M-like cameras": Probe(
        body="CMU01", thorax_drop=0.2, cameras="human36m_like"
    ),
}


@functools.cache
def subject_bone_lengths(subject: str) -> torch.Tensor:
    """``(16,)`` median bone lengths of an embedded subject (all its frames), metres."""
    dataset = load_default_dataset()
    world = [s.joints_world for s in dataset if s.subject == subject]
    if not world:
        raise ValueError(f"no embedded subject {subject!r}; expected one of {dataset.subjects}")
    return joints_to_bones(torch.cat(world).float(), dataset.skeleton).lengths.median(0).values


class _ProbeEngine(TrainingDataEngine):
    """The validation engine with one body for every video and a lowered thorax."""

    def __init__(self, probe: Probe) -> None:
        cameras = {
            "random": VirtualCameraConfig,
            "human36m_like": VirtualCameraConfig.human36m_like,
        }
        config = EngineConfig(recombination_probability=0.0, cameras=cameras[probe.cameras]())
        super().__init__(config, pose_filter=within_limits)
        self.probe = probe

    def sample_bodies(self, motion, generator, split="train"):
        lengths = super().sample_bodies(motion, generator, split)
        if self.probe.body is None:
            return lengths
        return subject_bone_lengths(self.probe.body).to(lengths).expand_as(lengths).clone()

    def draw_thorax(self, joints, generator):
        return lower_thorax(joints, self.probe.thorax_drop)


def probe_videos(probe: Probe, videos: int = 64) -> PoseDataset:
    """The validation videos as ``probe`` changes them (the validation seed and split)."""
    engine = _ProbeEngine(probe)
    return engine.dataset(videos, torch.Generator().manual_seed(VALIDATION_SEED), "validation")


FIELDS = ("p1", "p2", "p1_after_rotation", "rotation_deg", "mean_rotation_deg", "rotation_sd_deg")


def main(argv: list[str] | None = None) -> None:
    data = functools.cache(lambda: {name: probe_videos(p) for name, p in PROBES.items()})
    model_report(
        "benchmarks/definition_probes.py",
        __doc__.split("\n\n")[0],
        lambda model, _args: {
            name: {k: v for k, v in orientation_errors(model, videos).items() if k in FIELDS}
            for name, videos in data().items()
        },
        argv,
    )


if __name__ == "__main__":
    main()

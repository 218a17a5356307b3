"""Draw docs/images/decomposition.png for the README from the embedded dataset.

Left: one frame of the real CMU motion-capture clip (test subject CMU01), as seen from the
first Human3.6M camera. Right: that clip's 16 bone lengths over time (constant: the body
does not change) next to the angle each bone direction turned (it changes all the time).

    python scripts/make_readme_figure.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from anatomy_lib.bones import joints_to_bones  # noqa: E402
from anatomy_lib.data import load_default_dataset  # noqa: E402
from anatomy_lib.viz.static import skeleton_matplotlib  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "docs" / "images" / "decomposition.png"


def main() -> None:
    data = load_default_dataset()
    seq = next(s for s in data if s.subject == "CMU01")
    joints = seq.joints_3d_relative
    bones = joints_to_bones(joints, seq.skeleton)
    t = torch.arange(seq.num_frames) / seq.fps
    turned = torch.rad2deg(
        torch.acos((bones.directions * bones.directions[:1]).sum(-1).clamp(-1, 1))
    )

    fig = plt.figure(figsize=(11, 4.2))
    ax3d = fig.add_subplot(1, 3, 1, projection="3d")
    frame = seq.num_frames // 3
    skeleton_matplotlib(
        joints[frame], seq.skeleton, up="-y", ax=ax3d, title=f"CMU clip, {t[frame]:.1f} s"
    )
    ax_len = fig.add_subplot(1, 3, 2)
    ax_len.plot(t, 100 * bones.lengths, lw=1)
    ax_len.set(
        xlabel="time (s)", ylabel="bone length (cm)", title="16 bone lengths: nearly constant"
    )
    ax_dir = fig.add_subplot(1, 3, 3)
    ax_dir.plot(t, turned, lw=1)
    ax_dir.set(
        xlabel="time (s)", ylabel="degrees from first frame", title="16 bone directions: moving"
    )
    fig.suptitle(
        "Real motion capture (CMU subject 01) split into bone lengths and directions "
        "(the wavy length is pelvis-spine: our pelvis is the mid-hip point, not a mocap joint)",
        fontsize=9,
    )
    fig.tight_layout()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT, dpi=90)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

"""Experiment presets: every name builds, Table 4 rows differ exactly where the paper says."""

from __future__ import annotations

import pytest

from anatomy_lib.losses import LossWeights
from anatomy_lib.training.config import (
    SIZES,
    TABLE4_EXTRAS,
    TABLE4_ROWS,
    ExperimentConfig,
    OptimConfig,
    preset_names,
)


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _diff(a: str, b: str, size: str = "paper-81") -> set[str]:
    fa = _flat(ExperimentConfig.preset(f"{a}@{size}").to_dict())
    fb = _flat(ExperimentConfig.preset(f"{b}@{size}").to_dict())
    return {k for k in fa if fa[k] != fb[k]} - {"name"}


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_builds_and_round_trips(name):
    cfg = ExperimentConfig.preset(name)
    assert cfg.name == name
    assert ExperimentConfig.from_dict(cfg.to_dict()) == cfg


# Each row of Table 4 adds exactly one switch to the row above it.
TABLE4_STEPS = [
    ("baseline", "af", {"architecture"}),
    ("af", "af+ml", {"per_frame_loss"}),
    ("af+ml", "af+ml+boneatt", {"model.length_attention"}),
    ("af+ml+boneatt", "af+ml+boneatt+aug", {"data.bone_length_augmentation"}),
    ("af+ml+boneatt+aug", "af+ml+boneatt+aug+jsl", {"losses.joint_shift"}),
    ("af+ml+boneatt+aug+jsl", "af+ml+boneatt+aug+jsl+lsc", {"model.num_direction_stages"}),
    ("af+ml+boneatt+aug+jsl+lsc", "af+ml+boneatt+aug+jsl+lsc+scoreatt", {"model.visibility"}),
    # the four extra comparisons of Sec. 4.4
    ("baseline", "baseline+jsl", {"losses.joint_shift"}),
    ("af+ml+boneatt+aug+jsl", "af-conse+ml+boneatt+aug+jsl", {"data.length_frames"}),
    (
        "af+ml+boneatt+aug+jsl+lsc",
        "af+ml+boneatt+aug+jsl+baseline-d",
        {"model.long_skip", "model.block_gradients", "model.direction_loss_at_every_stage"},
    ),
    (
        "af+ml+boneatt+aug+jsl+lsc+scoreatt",
        "af+ml+boneatt+aug+jsl+lsc+fusion",
        {"model.visibility"},
    ),
]


@pytest.mark.parametrize("size", ["paper-81", "small"])
@pytest.mark.parametrize(("before", "after", "changed"), TABLE4_STEPS)
def test_table4_rows_differ_exactly_where_the_table_says(before, after, changed, size):
    assert _diff(before, after, size) == changed


def test_table4_switch_values():
    full = ExperimentConfig.preset("af+ml+boneatt+aug+jsl+lsc+scoreatt")
    af = ExperimentConfig.preset("af")
    assert (full.per_frame_loss, af.per_frame_loss) == (True, False)
    assert (full.model.length_attention, af.model.length_attention) == ("softmax", "mean")
    assert (full.data.bone_length_augmentation, af.data.bone_length_augmentation) == (True, False)
    assert (full.losses.joint_shift, af.losses.joint_shift) == (0.1, 0.0)
    assert (full.model.num_direction_stages, af.model.num_direction_stages) == (2, 1)
    assert (full.model.visibility, af.model.visibility) == ("attention", "none")
    assert full.losses == LossWeights.preset("paper")
    d = ExperimentConfig.preset("af+ml+boneatt+aug+jsl+baseline-d").model
    assert d.num_direction_stages == 2 and not d.long_skip and not d.block_gradients
    assert (
        ExperimentConfig.preset("af-conse+ml+boneatt+aug+jsl").data.length_frames == "consecutive"
    )
    assert ExperimentConfig.preset("af+ml+boneatt+aug+jsl+lsc+fusion").model.visibility == "fusion"
    assert len(TABLE4_ROWS) == 8 and len(TABLE4_EXTRAS) == 4


@pytest.mark.parametrize(
    ("name", "frames", "causal", "channels"),
    [("paper-27", 27, False, 1024), ("paper-81", 81, False, 1024), ("paper-243", 243, False, 1024),
     ("paper-243-causal", 243, True, 1024), ("small", 27, False, 128)],
)  # fmt: skip
def test_sizes(name, frames, causal, channels):
    cfg = ExperimentConfig.preset(name)
    assert cfg.name == f"full@{name}"
    assert cfg.model.receptive_field == frames
    assert cfg.model.causal is causal and cfg.model.channels == channels
    assert cfg.data.dataset == ("embedded" if name == "small" else "h36m")


def test_bare_variant_is_the_ablation_size():
    assert ExperimentConfig.preset("af+ml").name == "af+ml@paper-81"
    assert set(SIZES) >= {"paper-27", "paper-81", "paper-243", "paper-243-causal", "small", "tiny"}


def test_overrides_apply_and_validate():
    cfg = ExperimentConfig.preset("small").override(
        [
            "optim.epochs=3",
            "losses=released",
            "model.channels=64",
            "data.train_flip=false",
            "seed=7",
        ]
    )
    assert cfg.optim.epochs == 3 and cfg.model.channels == 64 and cfg.seed == 7
    assert cfg.losses == LossWeights.preset("released") and cfg.data.train_flip is False
    assert cfg.override(["optim.learning_rate=1"]).optim.learning_rate == 1.0
    assert cfg.override(["model.filter_widths=[3,3]"]).model.receptive_field == 9


@pytest.mark.parametrize(
    ("assignment", "match"),
    [
        ("optim.epoch=3", "no field 'epoch'"),
        ("optim.epochs", "KEY=VALUE"),
        ("optim.epochs=0", "positive int"),
        ("optim.epochs=2.5", "integer"),
        ("model.visibility=sometimes", "visibility"),
        ("losses=nonsense", "unknown loss preset"),
        ("data.train_flip=1", "true or false"),
        ("optim=3", "group of settings"),
        ("data.dataset=coco", "dataset"),
        # converted by the declared field type
        ("optim.augmented_batch_size=many", "expected an integer, got 'many'"),
        ("optim.learning_rate=fast", "expected a number, got 'fast'"),
        ("model.filter_widths=3", r"expected a list like \[3, 3, 3\], got '3'"),
        ("optim.amp_dtype=float8", "amp_dtype: expected one of"),
        ("seed=true", "expected an integer"),
        ("optim.ema_decay=1", r"ema_decay: expected None or a number in \(0, 1\), got 1.0"),
        ("optim.ema_decay=0", r"ema_decay: expected None or a number in \(0, 1\)"),
        ("optim.ema_decay=often", "expected a number, got 'often'"),
    ],
)
def test_bad_overrides_raise(assignment, match):
    with pytest.raises(ValueError, match=match):
        ExperimentConfig.preset("small").override([assignment])


def test_ema_decay_round_trips_and_is_off_by_default():
    exp = ExperimentConfig.preset("small")
    assert exp.optim.ema_decay is None
    averaged = exp.override(["optim.ema_decay=0.999"])
    assert averaged.optim.ema_decay == 0.999
    assert ExperimentConfig.from_dict(averaged.to_dict()) == averaged
    assert averaged.override(["optim.ema_decay=null"]) == exp


def test_bad_presets_and_configs_raise():
    with pytest.raises(KeyError, match="known variants"):
        ExperimentConfig.preset("af+nothing")
    with pytest.raises(KeyError, match="known sizes"):
        ExperimentConfig.preset("af@huge")
    with pytest.raises(ValueError, match="baseline reads visibility"):
        ExperimentConfig.preset("baseline").override(["model.visibility=attention"])
    with pytest.raises(ValueError, match="bone_length_augmentation"):
        ExperimentConfig.preset("baseline").override(["data.bone_length_augmentation=true"])
    with pytest.raises(ValueError, match="unknown field"):
        ExperimentConfig.from_dict({"nme": "x"})


def test_schedules():
    o = OptimConfig(
        epochs=5, learning_rate=1e-3, lr_decay=0.5, bn_momentum_start=0.1, bn_momentum_end=0.001
    )
    assert o.learning_rate_at(2) == pytest.approx(2.5e-4)
    assert o.bn_momentum(0) == pytest.approx(0.1) and o.bn_momentum(4) == pytest.approx(0.001)
    assert o.bn_momentum(2) == pytest.approx(0.01)


def test_overrides_convert_by_the_declared_field_type():
    """Conversion follows each field's annotation, not the current value's type."""
    cfg = ExperimentConfig.preset("tiny")
    assert cfg.override(["name=42"]).name == "42"
    assert cfg.override(["data.keypoints=123"]).data.keypoints == "123"
    assert cfg.override(["data.root=null"]).data.root is None
    assert cfg.override(["data.root=/data/h36m"]).data.root == "/data/h36m"
    assert cfg.override(["optim.augmented_batch_size=64"]).optim.augmented_batch_size == 64
    bigger = cfg.override(["optim.augmented_batch_size=64", "optim.augmented_batch_size=null"])
    assert bigger.optim.augmented_batch_size is None
    lr = cfg.override(["optim.learning_rate=1"]).optim.learning_rate
    assert lr == 1.0 and isinstance(lr, float)
    assert cfg.override(["model.filter_widths=[3, 5]"]).model.filter_widths == (3, 5)
    assert cfg.override(["optim.amp_dtype=bfloat16"]).optim.amp_dtype == "bfloat16"
    assert cfg.override(["model.skeleton=h36m"]).model.skeleton == "h36m"


def test_table4_rows_are_data():
    """Every row is a Table4Row listing only the switches that are on; the baselines
    differ from AF only in the architecture (and JSL)."""
    from anatomy_lib.training.config import Table4Row

    rows = {**TABLE4_ROWS, **TABLE4_EXTRAS}
    assert all(isinstance(r, Table4Row) for r in rows.values())
    assert TABLE4_ROWS["af"] == Table4Row()
    assert TABLE4_ROWS["baseline"] == Table4Row(architecture="baseline")
    for name, row in rows.items():
        switches = {"ml", "boneatt", "aug", "jsl", "lsc"}
        on = {s for s in switches if f"+{s}" in name or name.startswith(f"{s}+")}
        assert on == {
            s for s, flag in zip(
                ["ml", "boneatt", "aug", "jsl", "lsc"],
                [row.ml, row.bone_att, row.aug, row.jsl, row.lsc],
                strict=True,
            ) if flag
        }, name  # fmt: skip


@pytest.mark.parametrize("size", ["small-engine", "medium"])
def test_aug_chooses_the_engine_bodies(size):
    # On the engine AUG is measured adults against the clips' own bodies (module docstring);
    # the paper's extra batch is never used there.
    with_aug = ExperimentConfig.preset(f"af+ml+boneatt+aug@{size}")
    without = ExperimentConfig.preset(f"af+ml+boneatt@{size}")
    assert (with_aug.data.engine_bodies, without.data.engine_bodies) == ("ansur", "clip")
    assert not with_aug.data.bone_length_augmentation and not without.data.bone_length_augmentation
    assert with_aug.replace(data=without.data) == without.replace(
        per_frame_loss=with_aug.per_frame_loss,
        model=with_aug.model,
        losses=with_aug.losses,
        name=with_aug.name,
    )


@pytest.mark.parametrize(
    "name, assignments",
    [
        ("small", []),
        ("full@medium", ["model.channels=320", "data.engine_videos=1024", "seed=49",
                         "data.engine_with_embedded=true", "optim.lr_decay=0.9074985149393424",
                         "init_weights=anatomy_medium"]),
        ("full@medium", ["data.dataset=embedded", "data.held_out_clips=engine_validation",
                         "model.filter_widths=[3,3]", "losses.joint_shift=0"]),
        ("af+ml+boneatt+aug@small", ["model.causal=true", "data.keypoints=cpn"]),
    ],
)  # fmt: skip
def test_overrides_are_what_makes_an_experiment_from_its_preset(name, assignments):
    """``overrides()`` is derived from the experiment alone: replayed on the preset it gives
    the same experiment back, and a preset needs none."""
    exp = ExperimentConfig.preset(name).override(assignments)
    derived = exp.overrides()
    assert ExperimentConfig.preset(exp.name).override(derived) == exp
    assert len(derived) == len(assignments)
    assert ExperimentConfig.preset(name).overrides() == []

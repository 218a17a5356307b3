"""ModelConfig / BaselineConfig: presets, validation, dict round trips."""

from __future__ import annotations

import pytest
from conftest import TINY_TREE

from anatomy_lib.models import BaselineConfig, ModelConfig
from anatomy_lib.skeleton import Skeleton


@pytest.mark.parametrize("name", ModelConfig.preset_names())
def test_presets_round_trip_through_dict(name):
    cfg = ModelConfig.preset(name)
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg


def test_paper_presets_receptive_fields():
    assert ModelConfig.preset("paper-243").receptive_field == 243
    assert ModelConfig.preset("paper-81").receptive_field == 81
    assert ModelConfig.preset("paper-27").receptive_field == 27
    assert ModelConfig.preset("paper-243").num_blocks == 4
    assert ModelConfig(filter_widths=(3, 5, 1)).receptive_field == 15


def test_skeleton_object_round_trips():
    cfg = ModelConfig.preset("tiny", skeleton=TINY_TREE)
    back = ModelConfig.from_dict(cfg.to_dict())
    assert isinstance(back.skeleton, Skeleton) and back.skeleton == TINY_TREE


def test_baseline_d_switches():
    d = ModelConfig.preset("paper-243").baseline_d()
    assert (d.long_skip, d.block_gradients, d.direction_loss_at_every_stage) == (
        False,
        False,
        False,
    )
    assert d.num_direction_stages == 2


def test_baseline_config_matches():
    b = ModelConfig.preset("paper-81", visibility="fusion").baseline()
    assert b.receptive_field == 81 and b.visibility == "fusion"
    assert BaselineConfig.from_dict(b.to_dict()) == b


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        (dict(filter_widths=(3, 4)), "odd positive"),
        (dict(filter_widths=()), "odd positive"),
        (dict(channels=0), "channels"),
        (dict(dropout=1.0), "dropout"),
        (dict(num_direction_stages=0), "num_direction_stages"),
        (dict(visibility="maybe"), "visibility"),
        (dict(length_attention="max"), "length_attention"),
        (dict(attention_features="x"), "attention_features"),
        (dict(joint_head="mlp"), "joint_head"),
        (dict(attention_temperature=0.0), "attention_temperature"),
        (dict(bn_momentum=0.0), "bn_momentum"),
        (dict(sampled_frames=0), "sampled_frames"),
    ],
)
def test_bad_values_raise(overrides, match):
    with pytest.raises(ValueError, match=match):
        ModelConfig(**overrides)


def test_unknown_names_raise():
    with pytest.raises(KeyError, match="unknown ModelConfig preset"):
        ModelConfig.preset("paper-1000")
    with pytest.raises(KeyError, match="unknown skeleton"):
        ModelConfig(skeleton="horse")
    with pytest.raises(ValueError, match="unknown field"):
        ModelConfig.from_dict({"channels": 8, "colour": "red"})
    with pytest.raises(ValueError, match="attention"):
        BaselineConfig(visibility="attention")

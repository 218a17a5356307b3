"""Checkpoints: own format round trip, released layout (synthetic), VideoPose3D layout."""

from __future__ import annotations

import pytest
import torch
from test_models_networks import inputs, randomise_batchnorm

from anatomy_lib.models import AnatomyModel, BaselineConfig, ModelConfig, TemporalConvNet
from anatomy_lib.models.checkpoints import (
    RELEASED_BONES,
    load_model,
    load_released_checkpoint,
    load_videopose3d_checkpoint,
    released_pairs,
    save_model,
    weights_fingerprint,
)
from anatomy_lib.skeleton import H36M_17

C = 8


def test_save_load_round_trip(tmp_path):
    cfg = ModelConfig.preset("tiny", channels=C, filter_widths=(3, 5))
    model = AnatomyModel(cfg)
    randomise_batchnorm(model)
    model.eval()
    save_model(model, tmp_path / "m.pt")
    back = load_model(tmp_path / "m.pt")
    assert isinstance(back, AnatomyModel) and back.config == cfg and not back.training
    args = inputs(cfg)
    torch.testing.assert_close(back(*args).joints, model(*args).joints, atol=0, rtol=0)
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]  # no temp file left


def test_weights_fingerprint_follows_the_weights_not_the_file(tmp_path):
    cfg = ModelConfig.preset("tiny", channels=C, filter_widths=(3, 5))
    model = AnatomyModel(cfg)
    randomise_batchnorm(model)
    save_model(model, tmp_path / "m.pt")
    digest = weights_fingerprint(model)
    assert len(digest) == 64 and weights_fingerprint(load_model(tmp_path / "m.pt")) == digest
    assert weights_fingerprint(AnatomyModel(cfg)) != digest  # other random weights
    with torch.no_grad():  # the smallest change of one value
        w = model.direction.stages[0].head.weight
        w[0, 0] = torch.nextafter(w[0, 0], torch.tensor(float("inf")))
    assert weights_fingerprint(model) != digest
    assert weights_fingerprint(load_model(tmp_path / "m.pt").double()) != digest  # dtype counts


def test_wrong_architecture_and_foreign_files_raise(tmp_path):
    net = TemporalConvNet(BaselineConfig.preset("tiny"))
    save_model(net, tmp_path / "b.pt")
    assert isinstance(load_model(tmp_path / "b.pt"), TemporalConvNet)
    with pytest.raises(ValueError, match="holds a TemporalConvNet, expected a AnatomyModel"):
        load_model(tmp_path / "b.pt", architecture="AnatomyModel")
    torch.save({"model_pos": {}}, tmp_path / "foreign.pt")
    with pytest.raises(ValueError, match="not an anatomy3d model checkpoint"):
        load_model(tmp_path / "foreign.pt")
    payload = torch.load(tmp_path / "b.pt", weights_only=True)
    payload["state_dict"].pop("head.bias")
    torch.save(payload, tmp_path / "broken.pt")
    with pytest.raises(ValueError, match=r"missing keys \['head.bias'\]"):
        load_model(tmp_path / "broken.pt")


def released_state(widths=(3, 3, 3), seed=0) -> dict[str, torch.Tensor]:
    """A random state dict in the released layout (reference-notes.md), 'module.' prefixed."""
    g = torch.Generator().manual_seed(seed)
    nb = len(widths) - 1
    shapes: dict[str, tuple[int, ...]] = {
        "expand_conv.weight": (C, 34, widths[0]),
        "expand_convscore.weight": (C, 17, widths[0]),
        "boneatt.weight": (16, 102),
        "boneatt.bias": (16,),
        "shrink.weight": (51, C, 1),
        "shrink.bias": (51,),
    }
    bns = ["expand_bn", "expand_bnscore"]
    for suffix in ("", "1"):
        for b in range(nb):
            shapes[f"layers_conv{suffix}.{2 * b}.weight"] = (
                (C, 2 * C, widths[b + 1]) if (b == 0 or suffix) else (C, C, widths[b + 1])
            )
            shapes[f"layers_conv{suffix}.{2 * b + 1}.weight"] = (C, C, 1)
            bns += [f"layers_bn{suffix}.{2 * b}", f"layers_bn{suffix}.{2 * b + 1}"]
    shapes["layers_convbone.0.weight"], shapes["layers_convbone.0.bias"] = (C, 34), (C,)
    for i in range(1, 2 * nb + 1):
        shapes[f"layers_convbone.{i}.weight"], shapes[f"layers_convbone.{i}.bias"] = (C, C), (C,)
    shapes[f"layers_convbone.{2 * nb + 1}.weight"] = (51, C)
    shapes[f"layers_convbone.{2 * nb + 1}.bias"] = (51,)
    bns += [f"layers_bnbone.{i}" for i in range(2 * nb + 1)]
    for s in ("", "_1", "_2"):
        shapes[f"lengthlinear{s}.weight"], shapes[f"lengthlinear{s}.bias"] = (C, 16), (C,)
        shapes[f"directlinear{s}.weight"], shapes[f"directlinear{s}.bias"] = (C, 48, 1), (C,)
    for s in ("_1", "_2"):
        shapes[f"shrink_direct{s}.weight"], shapes[f"shrink_direct{s}.bias"] = (48, C, 1), (48,)
        shapes[f"shrink_js{s}.weight"], shapes[f"shrink_js{s}.bias"] = (411, C, 1), (411,)
    state = {k: torch.randn(v, generator=g) for k, v in shapes.items()}
    for bn in bns:
        state[f"{bn}.weight"] = 0.5 + torch.rand(C, generator=g)
        state[f"{bn}.bias"] = torch.randn(C, generator=g)
        state[f"{bn}.running_mean"] = torch.randn(C, generator=g)
        state[f"{bn}.running_var"] = 0.5 + torch.rand(C, generator=g)
        state[f"{bn}.num_batches_tracked"] = torch.tensor(7)
    return {f"module.{k}": v for k, v in state.items()}


def test_released_pairs_count():
    assert len(released_pairs()) == 137
    assert sum(i == j for i, j in released_pairs()) == 17
    assert set(H36M_17.non_bone_pairs) <= set(released_pairs())


def test_released_checkpoint_loads_with_permuted_bones(tmp_path):
    torch.manual_seed(0)  # the inputs below are random: same draw whatever ran before
    state = released_state()
    torch.save({"epoch": 3, "model_pos": state}, tmp_path / "released.bin")
    model = load_released_checkpoint(tmp_path / "released.bin")
    cfg = model.config
    assert (
        cfg.filter_widths == (3, 3, 3)
        and cfg.channels == C
        and cfg.attention_features == "joints_abs"
    )
    # Direction head: hand-computed permuted and negated output.
    feature = torch.randn(4, C)
    theirs = (
        feature @ state["module.shrink_direct_2.weight"][:, :, 0].T
        + state["module.shrink_direct_2.bias"]
    )
    theirs = theirs.view(4, 16, 3)
    ours = model.direction.stages[1].head(feature).view(4, 16, 3)
    # Same products, rows in another order: equal up to float32 summation order.
    close = dict(rtol=1e-4, atol=1e-4)
    for b, (child, parent) in enumerate(H36M_17.bones):
        if (child, parent) in RELEASED_BONES:
            j = RELEASED_BONES.index((child, parent))
            torch.testing.assert_close(ours[:, b], theirs[:, j], **close)
        else:
            j = RELEASED_BONES.index((parent, child))
            torch.testing.assert_close(ours[:, b], -theirs[:, j], **close)
    # Bone 11 <- 8 is stored parent-minus-child (8, 11) in the release: negated.
    b11 = H36M_17.bone_children.index(11)
    torch.testing.assert_close(ours[:, b11], -theirs[:, 7], **close)
    # Final head: same function of (lengths, directions) in either bone convention.
    lengths, dirs = torch.rand(4, 16), torch.randn(4, 16, 3)
    their_len = torch.zeros(4, 16)
    their_dir = torch.zeros(4, 16, 3)
    for b, (child, parent) in enumerate(H36M_17.bones):
        j = next(i for i, p in enumerate(RELEASED_BONES) if set(p) == {child, parent})
        their_len[:, j] = lengths[:, b]
        their_dir[:, j] = dirs[:, b] * (1 if RELEASED_BONES[j][0] == child else -1)
    lin = their_len @ state["module.lengthlinear.weight"].T + state["module.lengthlinear.bias"]
    dlin = (
        their_dir.flatten(1) @ state["module.directlinear.weight"][:, :, 0].T
        + state["module.directlinear.bias"]
    )
    expected = (lin * dlin) @ state["module.shrink.weight"][:, :, 0].T + state["module.shrink.bias"]
    torch.testing.assert_close(
        model.heads.joints(lengths, dirs).flatten(1), expected, atol=1e-5, rtol=1e-5
    )
    # Joint-shift head keeps the rows of our 120 pairs in the assumed row-major order.
    pos = released_pairs().index(H36M_17.non_bone_pairs[5])
    torch.testing.assert_close(
        model.heads.shift_heads[0].out.weight[15:18],
        state["module.shrink_js_1.weight"][3 * pos : 3 * pos + 3, :, 0],
    )
    # The model runs.
    out = model(*inputs(cfg, n=2))
    assert out.joints.shape == (2, 17, 3)


def test_released_checkpoint_errors_list_keys():
    state = released_state()
    state.pop("module.boneatt.bias")
    state["module.extra_layer.weight"] = torch.zeros(1)
    with pytest.raises(
        ValueError,
        match=r"missing keys \['boneatt.bias'\].*unexpected keys \['extra_layer.weight'\]",
    ):
        load_released_checkpoint(state)
    state = released_state()
    state["module.shrink_js_1.weight"] = torch.zeros(400, C, 1)
    with pytest.raises(ValueError, match="wrong shapes.*shrink_js_1.weight"):
        load_released_checkpoint(state)
    with pytest.raises(ValueError, match="not the released"):
        load_released_checkpoint({"model_pos": {"shrink.weight": torch.zeros(51, C, 1)}})


def _to_videopose3d(net: TemporalConvNet) -> dict[str, torch.Tensor]:
    out = {}
    for k, v in net.state_dict().items():
        k = k.replace("expand.conv", "expand_conv").replace("expand.bn", "expand_bn")
        if k.startswith("stack.blocks."):
            _, _, b, part, kind, rest = k.split(".", 5)
            i = 2 * int(b) + (part == "pointwise")
            k = f"layers_{kind}.{i}.{rest}"
        if k.startswith("head."):
            k = k.replace("head.", "shrink.")
            v = v.unsqueeze(-1) if v.dim() == 2 else v
        out["module." + k] = v
    return out


def test_videopose3d_checkpoint_round_trip(tmp_path):
    net = TemporalConvNet(BaselineConfig(filter_widths=(3, 5, 3), channels=C))
    randomise_batchnorm(net)
    net.eval()
    torch.save({"model_pos": _to_videopose3d(net)}, tmp_path / "vp3d.bin")
    back = load_videopose3d_checkpoint(tmp_path / "vp3d.bin")
    assert back.config.filter_widths == (3, 5, 3) and back.config.channels == C
    kp = torch.randn(2, 45, 17, 2)
    torch.testing.assert_close(back(kp), net(kp), atol=0, rtol=0)
    bad = _to_videopose3d(net)
    bad.pop("module.layers_bn.1.running_var")
    with pytest.raises(ValueError, match=r"missing keys \['layers_bn.1.running_var'\]"):
        load_videopose3d_checkpoint(bad)


@pytest.mark.parametrize(
    "key",
    [
        "layers_conv.2.weight",
        "layers_bn1.3.running_var",
        "layers_convbone.5.bias",
        "shrink_js_2.bias",
    ],
)
def test_released_missing_key_is_named_alone(key):
    """A tensor missing from the file is reported as missing, and nothing else (the block
    count is not read from the one key that is gone)."""
    state = released_state()
    state.pop(f"module.{key}")
    with pytest.raises(ValueError, match=rf"missing keys \['{key}'\], unexpected keys \[\], "):
        load_released_checkpoint(state)


def test_released_width_unreadable_names_the_keys():
    state = released_state()
    state.pop("module.layers_conv.2.weight")
    state.pop("module.layers_conv1.2.weight")
    with pytest.raises(ValueError, match=r"layers_conv.2.weight.*residual block 1"):
        load_released_checkpoint(state)


def test_wrong_loader_gives_a_hint():
    net = TemporalConvNet(BaselineConfig(filter_widths=(3, 3), channels=C))
    with pytest.raises(ValueError, match="VideoPose3D checkpoint.*load_videopose3d_checkpoint"):
        load_released_checkpoint({"model_pos": _to_videopose3d(net)})
    with pytest.raises(ValueError, match="released layout.*load_released_checkpoint"):
        load_videopose3d_checkpoint(released_state())


@pytest.mark.parametrize("widths", [(3, 3), (3, 5, 3), (1, 3, 3, 3)])
def test_conversion_tables_cover_every_model_key(widths):
    """Each table row expands to keys that are exactly the model's state dict keys."""
    from anatomy_lib.models.checkpoints import RELEASED_LAYOUT, VIDEOPOSE3D_LAYOUT, _expand

    cfg = ModelConfig(filter_widths=widths, channels=C, attention_features="joints_abs")
    model = AnatomyModel(cfg)
    assert set(_expand(RELEASED_LAYOUT, cfg.num_blocks)) == set(model.state_dict())
    base = TemporalConvNet(BaselineConfig(filter_widths=widths, channels=C))
    assert set(_expand(VIDEOPOSE3D_LAYOUT, len(widths) - 1)) == set(base.state_dict())
    their = {src for src, _ in _expand(RELEASED_LAYOUT, cfg.num_blocks).values()}
    assert their == {k.removeprefix("module.") for k in released_state(widths)}

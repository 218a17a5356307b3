"""The person-centred input normalisation: invariances, and that the models apply it."""

import math

import pytest
import torch

from anatomy_lib.models import AnatomyModel, ModelConfig
from anatomy_lib.models.inputs import normalize_keypoints
from anatomy_lib.skeleton import H36M_17


def _keypoints(seed: int = 0, shape=(5, 17)) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, 2, generator=g, dtype=torch.float64) * 0.2


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_person_normalisation_ignores_image_position_and_scale(dtype):
    kp = _keypoints().to(dtype)
    moved = kp * 3.7 + torch.tensor([0.4, -0.9], dtype=dtype)  # zoom + shift in the image
    a = normalize_keypoints(kp, "person", H36M_17)
    b = normalize_keypoints(moved, "person", H36M_17)
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_person_normalisation_is_rotation_equivariant_and_root_centred():
    kp = _keypoints(1)
    angle = 0.3
    rot = torch.tensor(
        [[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]],
        dtype=kp.dtype,
    )
    out = normalize_keypoints(kp, "person", H36M_17)
    torch.testing.assert_close(normalize_keypoints(kp @ rot.T, "person", H36M_17), out @ rot.T)
    assert out[..., H36M_17.root, :].abs().max() == 0
    median = out.norm(dim=-1).median(dim=-1).values
    torch.testing.assert_close(median, torch.ones_like(median))


def test_screen_normalisation_is_identity_and_unknown_mode_is_refused():
    kp = _keypoints(2)
    assert normalize_keypoints(kp, "screen", H36M_17) is kp
    with pytest.raises(ValueError, match="expected one of"):
        normalize_keypoints(kp, "pixels", H36M_17)
    with pytest.raises(ValueError, match="input_normalization"):
        ModelConfig.preset("tiny", input_normalization="pixels")


def test_person_model_output_does_not_change_when_the_person_moves_in_the_image():
    cfg = ModelConfig.preset("tiny", channels=8, input_normalization="person")
    torch.manual_seed(0)
    model = AnatomyModel(cfg).eval()
    g = torch.Generator().manual_seed(3)
    window = torch.randn(2, cfg.receptive_field, 17, 2, generator=g) * 0.2
    scores = torch.rand(2, cfg.receptive_field, 17, generator=g)
    sampled = torch.randn(2, cfg.sampled_frames, 17, 2, generator=g) * 0.2
    shift = torch.tensor([0.5, 0.1])
    with torch.no_grad():
        a = model(window, scores, sampled).joints
        b = model(window * 0.5 + shift, scores, sampled * 0.5 + shift).joints
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)

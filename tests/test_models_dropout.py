"""The CPU dropout: drop rate, scaling, gradient, reproducibility, and the constant-stream
path of later direction sub-networks (equal to the expanded conv, values and gradients)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from anatomy_lib.models.dropout import LANE_BITS, Dropout, dropout
from anatomy_lib.models.temporal import ResidualBlock, TemporalStack


@pytest.mark.parametrize("p", [0.1, 0.25, 0.5, 0.9])
def test_drop_rate_and_scale(p, dtype):
    torch.manual_seed(0)
    x = torch.ones(200_000, dtype=dtype)
    y = dropout(x, p)
    dropped = (y == 0).double().mean().item()
    quantised = round(p * 2**LANE_BITS) / 2**LANE_BITS
    # binomial standard error at n = 2e5 is <= 0.0012
    assert abs(dropped - quantised) < 0.006
    kept = y[y != 0]
    torch.testing.assert_close(kept, torch.full_like(kept, 1 / (1 - p)))
    # inverted dropout keeps the mean
    assert abs(y.double().mean().item() - 1) < 0.03


def test_mask_has_no_structure_across_lanes():
    """Each of the four 16-bit lanes of a 64-bit draw keeps with the same probability."""
    torch.manual_seed(1)
    y = dropout(torch.ones(400_000), 0.25).view(-1, 4)
    rates = (y == 0).double().mean(0)
    assert torch.all((rates - 0.25).abs() < 0.01), rates
    # neighbouring elements are independent: P(both dropped) ~ p^2
    both = ((y[:, 0] == 0) & (y[:, 1] == 0)).double().mean().item()
    assert abs(both - 0.0625) < 0.005


def test_gradient_is_the_mask():
    torch.manual_seed(2)
    x = torch.randn(1000, dtype=torch.float64, requires_grad=True)
    y = dropout(x, 0.3)
    y.sum().backward()
    mask = torch.where(y != 0, 1 / 0.7, 0.0).double()
    torch.testing.assert_close(x.grad, mask)


def test_reproducible_from_the_seed_and_identity_in_eval():
    x = torch.randn(3, 50, 7)
    torch.manual_seed(3)
    a = dropout(x, 0.25)
    torch.manual_seed(3)
    b = dropout(x, 0.25)
    assert torch.equal(a, b) and not torch.equal(a, x)
    module = Dropout(0.25).eval()
    assert module(x) is x
    assert dropout(x, 0.0) is x


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_bad_probability(p):
    with pytest.raises(ValueError, match="dropout probability"):
        Dropout(p)
    with pytest.raises(ValueError, match="dropout probability"):
        dropout(torch.ones(3), p)


@pytest.mark.parametrize("with_extra", [True, False])
@pytest.mark.parametrize("width", [2, 3])
@pytest.mark.parametrize("causal", [False, True])
def test_constant_stream_block_equals_expanded_conv(with_extra, width, causal):
    """Tap-summed weight on the constant stream == the conv over the repeated stream, in
    values, BatchNorm running statistics and gradients (float64, train mode)."""
    torch.manual_seed(4)
    c, e, positions = 6, 5, width * 3
    make = lambda: ResidualBlock(c + (e if with_extra else 0), c, width, 1, 0.0, 0.1, causal)  # noqa: E731
    fast = make().double()
    slow = make().double()
    slow.load_state_dict(fast.state_dict())
    stream = torch.randn(4, c, 1, dtype=torch.float64, requires_grad=True)
    extra = torch.randn(4, e, positions, dtype=torch.float64) if with_extra else None
    y_fast = fast.forward_constant_stream(stream, extra, positions)
    expanded = stream.expand(-1, -1, positions)
    x = expanded if extra is None else torch.cat([expanded, extra], 1)
    y_slow = slow(x, expanded, dense=False)
    torch.testing.assert_close(y_fast, y_slow)
    g = torch.randn_like(y_fast)
    (gs_fast,) = torch.autograd.grad(y_fast, stream, g, retain_graph=True)
    (gs_slow,) = torch.autograd.grad(y_slow, stream, g, retain_graph=True)
    torch.testing.assert_close(gs_fast, gs_slow)
    (y_fast * g).sum().backward()
    (y_slow * g).sum().backward()
    for (name, a), b in zip(fast.named_parameters(), slow.parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad, msg=name)
    for a, b in zip(fast.buffers(), slow.buffers(), strict=True):
        torch.testing.assert_close(a, b)


def test_stack_constant_positions_is_window_form_only():
    stack = TemporalStack((3, 3), 4, (0,), 0.0, 0.1, False)
    with pytest.raises(ValueError, match="window form only"):
        stack(torch.randn(1, 4, 1), None, dense=True, constant_positions=3)


def test_cpu_dropout_module_matches_functional_semantics():
    """Same contract as ``F.dropout``: zero or scaled copy, and train/eval switching."""
    torch.manual_seed(5)
    x = torch.rand(10_000) + 0.5
    y = Dropout(0.4).train()(x)
    ref = F.dropout(x, 0.4, training=True)
    for out in (y, ref):
        nz = out != 0
        torch.testing.assert_close(out[nz], x[nz] / 0.6)
    assert abs((y == 0).float().mean() - (ref == 0).float().mean()) < 0.03

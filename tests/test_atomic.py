"""The one atomic-write helper: content lands whole or not at all, and is fsync-ed."""

from __future__ import annotations

import os

import pytest
import torch

from anatomy_lib._atomic import atomic_torch_save, atomic_write, atomic_write_bytes
from anatomy_lib.models import BaselineConfig, TemporalConvNet
from anatomy_lib.models.checkpoints import load_model, save_model


def test_round_trip_fsync_and_mode(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    atomic_write_bytes(tmp_path / "sub" / "a.bin", b"abc")
    assert (tmp_path / "sub" / "a.bin").read_bytes() == b"abc" and len(synced) == 1
    atomic_torch_save({"x": torch.arange(3)}, tmp_path / "b.pt")
    assert torch.equal(torch.load(tmp_path / "b.pt", weights_only=True)["x"], torch.arange(3))
    atomic_write(tmp_path / "c.bin", lambda f: f.write(b"c"), mode=0o644)
    assert (tmp_path / "c.bin").stat().st_mode & 0o777 == 0o644
    assert len(synced) == 3


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "model.pt"
    net = TemporalConvNet(BaselineConfig(filter_widths=(3,), channels=8))
    save_model(net, path)
    before = path.read_bytes()

    def crash(f):
        f.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, crash)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]
    assert isinstance(load_model(path), TemporalConvNet)

"""Human3.6M / MPI-INF-3DHP / OpenPose loaders on small fixtures in the published formats."""

import json
import pickle

import numpy as np
import pytest
import torch

from anatomy_lib.camera import h36m_camera, world_to_camera
from anatomy_lib.data.h36m import H36M_DROPPED_JOINTS, load_h36m, reduce_h36m_32
from anatomy_lib.data.keypoint_formats import KEYPOINT_FORMATS, read_openpose_folder, to_h36m
from anatomy_lib.data.mpi_inf_3dhp import load_3dhp_test, load_3dhp_train


def _write_h36m(tmp_path, n=12):
    rng = np.random.default_rng(0)
    pos3d = {
        "S9": {"Walking 1": (rng.normal(size=(n, 32, 3)) * 0.3 + [0, 0, 1]).astype(np.float32)},
        "S11": {
            "Directions": rng.normal(size=(n, 32, 3)).astype(np.float32),
            "Eating": (rng.normal(size=(n, 32, 3)) * 0.3 + [0, 0, 1]).astype(np.float32),
        },
    }
    pos2d = {
        s: {
            a: [rng.normal(size=(n + 3, 17, 2)).astype(np.float32) * 100 + 500 for _ in range(4)]
            for a in acts
        }
        for s, acts in pos3d.items()
    }
    meta = {
        "layout_name": "h36m",
        "num_joints": 17,
        "keypoints_symmetry": [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]],
    }
    np.savez_compressed(tmp_path / "data_3d_h36m.npz", positions_3d=pos3d)
    np.savez_compressed(tmp_path / "data_2d_h36m_cpn.npz", positions_2d=pos2d, metadata=meta)
    scores = {
        f"{s}_{a}.{i}": rng.uniform(size=(n - 1, 17))
        for s, acts in pos3d.items()
        for a in acts
        for i in range(4)
    }
    with open(tmp_path / "score.pkl", "wb") as fh:
        pickle.dump(scores, fh)
    return pos3d, pos2d, scores


def test_h36m_loader_quirks(tmp_path):
    pos3d, pos2d, scores = _write_h36m(tmp_path)
    with pytest.warns(UserWarning, match=r"\['S1', 'S5', 'S6', 'S7', 'S8'\] are not in"):
        ds = load_h36m(
            tmp_path / "data_3d_h36m.npz", tmp_path / "data_2d_h36m_cpn.npz", tmp_path / "score.pkl"
        )
    with pytest.raises(ValueError, match="defines no train subjects"):
        ds.split("train")
    assert ("S11", "Directions") not in {(s.subject, s.action) for s in ds}
    assert len(ds) == 8
    seq = ds.select(subjects=["S9"], cameras=[h36m_camera("S9", 2).id])[0]
    assert seq.num_frames == 12  # 2D trimmed to the mocap length
    torch.testing.assert_close(
        seq.keypoints_pixels,
        torch.from_numpy(pos2d["S9"]["Walking 1"][2][:12]),
        rtol=1e-5,
        atol=1e-3,
    )
    # score array one frame short: padded with its last frame
    sc = scores["S9_Walking 1.2"]
    torch.testing.assert_close(seq.scores[:11], torch.from_numpy(sc).float())
    torch.testing.assert_close(seq.scores[11], torch.from_numpy(sc[-1]).float())
    world17 = np.delete(pos3d["S9"]["Walking 1"], H36M_DROPPED_JOINTS, axis=1)
    torch.testing.assert_close(
        seq.joints_3d, world_to_camera(torch.from_numpy(world17), seq.camera)
    )
    assert ds.split("test").subjects == ("S9", "S11")


def test_h36m_errors(tmp_path):
    _write_h36m(tmp_path)
    np.savez(tmp_path / "bad.npz", something=np.zeros(3))
    with pytest.raises(KeyError, match="'positions_3d' missing"):
        load_h36m(tmp_path / "bad.npz", tmp_path / "data_2d_h36m_cpn.npz")
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        load_h36m(tmp_path / "nope.npz", tmp_path / "data_2d_h36m_cpn.npz")
    with open(tmp_path / "score.pkl", "wb") as fh:
        pickle.dump({"S9_Walking 1.0": np.ones((12, 17))}, fh)
    with pytest.raises(KeyError, match="S9_Walking 1.1"):
        load_h36m(
            tmp_path / "data_3d_h36m.npz",
            tmp_path / "data_2d_h36m_cpn.npz",
            tmp_path / "score.pkl",
            subjects=["S9"],
        )
    with pytest.raises(ValueError, match="expected 32 Human3.6M"):
        reduce_h36m_32(np.zeros((2, 17, 3)))


def test_3dhp_loaders(tmp_path):
    rng = np.random.default_rng(1)

    def item(f):
        return {
            "data_2d": rng.uniform(0, 2048, (f, 17, 2)),
            "data_3d": rng.normal(size=(f, 17, 3)) * 300 + [0, 0, 4000],
        }  # noqa: E731

    train = {"S1 Seq1": [{0: item(5), 2: item(5)}, 25], "S2 Seq2": [{0: item(4)}, 50]}
    test = {
        "TS1": {**item(6), "valid": np.array([1, 1, 0, 1, 0, 1])},
        "TS5": {**item(3), "valid": np.ones(3)},
    }
    np.savez(tmp_path / "data_train_3dhp.npz", data=train)
    np.savez(tmp_path / "data_test_3dhp.npz", data=test)
    tr = load_3dhp_train(tmp_path / "data_train_3dhp.npz")
    assert len(tr) == 3 and tr.subjects == ("S1", "S2") and tr[0].fps == 25
    assert abs(float(tr[0].joints_3d[..., 2].mean()) - 4.0) < 0.5  # millimetres -> metres
    te = load_3dhp_test(tmp_path / "data_test_3dhp.npz")
    assert te[0].valid.tolist() == [True, True, False, True, False, True]
    assert te[1].image_size == (1920, 1080)
    torch.testing.assert_close(
        te[1].keypoints_pixels,
        torch.from_numpy(test["TS5"]["data_2d"]).float(),
        rtol=1e-5,
        atol=1e-2,
    )
    np.savez(tmp_path / "broken.npz", data={"TS1": {"data_2d": np.zeros((3, 17, 2))}})
    with pytest.raises(KeyError, match="'valid'"):
        load_3dhp_test(tmp_path / "broken.npz")


@pytest.mark.parametrize("name", sorted(KEYPOINT_FORMATS))
def test_keypoint_formats(name):
    fmt = KEYPOINT_FORMATS[name]
    w = fmt.weights(dtype=torch.float64)
    torch.testing.assert_close(w.sum(-1), torch.ones(17, dtype=torch.float64))
    # Each joint's row holds exactly its sources' weights; every call hands out a new tensor.
    for j, sources in enumerate(fmt.h36m_sources):
        expected = torch.zeros(fmt.num_keypoints, dtype=torch.float64)
        for k, weight in sources:
            expected[k] += weight
        assert torch.equal(w[j], expected)
    w.fill_(7.0)
    torch.testing.assert_close(fmt.weights(dtype=torch.float64).sum(-1), torch.ones(17).double())
    assert fmt.weights(dtype=torch.float16).dtype == torch.float16
    # A constant pose maps to the same constant; a translation commutes with the conversion.
    kp = torch.randn(3, fmt.num_keypoints, 2, dtype=torch.float64)
    sc = torch.rand(3, fmt.num_keypoints, dtype=torch.float64)
    out = to_h36m(kp, sc, name)
    shifted = to_h36m(kp + torch.tensor([5.0, -2.0], dtype=torch.float64), sc, name)
    torch.testing.assert_close(
        shifted.keypoints, out.keypoints + torch.tensor([5.0, -2.0], dtype=torch.float64)
    )
    assert bool((out.scores <= sc.amax(-1, keepdim=True)).all())
    # pelvis score = min of its sources
    src = [k for k, _ in fmt.h36m_sources[0]]
    torch.testing.assert_close(out.scores[:, 0], sc[:, src].amin(-1))
    with pytest.raises(ValueError, match=f"expected {fmt.num_keypoints} joints"):
        to_h36m(kp[:, :5], sc[:, :5], name)


def test_openpose_folder(tmp_path):
    for t in range(3):
        people = (
            [{"pose_keypoints_2d": [float(t)] * 75}, {"pose_keypoints_2d": [0.5] * 75}] if t else []
        )
        (tmp_path / f"f{t:04d}.json").write_text(json.dumps({"version": 1.3, "people": people}))
    arr = read_openpose_folder(tmp_path, 25)
    assert arr.shape == (3, 25, 3)
    assert float(arr[0, :, 2].max()) == 0.0  # nobody detected
    assert float(arr[2, 0, 0]) == 2.0  # most confident person kept
    (tmp_path / "f0009.json").write_text(
        json.dumps({"people": [{"pose_keypoints_2d": [1.0] * 10}]})
    )
    with pytest.raises(ValueError, match="f0009.json.*10 values, expected 75"):
        read_openpose_folder(tmp_path, 25)


def test_read_openpose_people_keeps_everyone_and_checks_sizes(tmp_path):
    from anatomy_lib.data.keypoint_formats import read_openpose_json, read_openpose_people

    a = np.arange(75, dtype=float)
    b = np.full(75, 2.0)
    path = tmp_path / "f.json"
    path.write_text(json.dumps({"people": [{"pose_keypoints_2d": a.tolist()},
                                           {"pose_keypoints_2d": b.tolist()}]}))  # fmt: skip
    people = read_openpose_people(path, 25)
    assert people.shape == (2, 25, 3)
    np.testing.assert_array_equal(people[0].reshape(-1), a)
    # read_openpose_json picks the most confident of the same people.
    np.testing.assert_array_equal(read_openpose_json(path, 25), people[0])
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"people": []}))
    assert read_openpose_people(empty, 25).shape == (0, 25, 3)
    with pytest.raises(ValueError, match="num_keypoints not given"):
        read_openpose_people(empty)
    with pytest.raises(ValueError, match="expected 54"):
        read_openpose_people(path, 18)


def test_openpose_placeholder_people_are_nobody(tmp_path):
    """Pose2Sim's person tracking writes a person with an empty ``pose_keypoints_2d`` for
    someone not seen in a view: such an entry is nobody, not a person of 0 keypoints."""
    from anatomy_lib.data.keypoint_formats import openpose_keypoint_count, read_openpose_people

    placeholder = {"person_id": 1, "pose_keypoints_2d": []}
    seen = np.full(75, 3.0)
    files = []
    for t, people in enumerate(
        [[placeholder], [placeholder, {"pose_keypoints_2d": seen.tolist()}]]
    ):
        files.append(tmp_path / f"cam01.{t:04d}.json")
        files[-1].write_text(json.dumps({"people": people}))
    assert read_openpose_people(files[0], 25).shape == (0, 25, 3)
    both = read_openpose_people(files[1])
    assert both.shape == (1, 25, 3)
    np.testing.assert_array_equal(both[0].reshape(-1), seen)
    # The keypoint count comes from the first file with a real person, and the folder reads.
    assert openpose_keypoint_count(files) == 25
    assert openpose_keypoint_count(files[:1]) is None
    arr = read_openpose_folder(tmp_path)
    assert arr.shape == (2, 25, 3) and float(arr[0, :, 2].max()) == 0.0
    np.testing.assert_array_equal(arr[1].reshape(-1), seen)

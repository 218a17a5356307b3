"""Checks that keep wrong 2D input from becoming plausible-looking wrong 3D.

A lifting model accepts any numbers, so input in the wrong unit or layout still gives
smooth, confident 3D. These checks look at value ranges and body geometry and refuse
(``ValueError``) what cannot be pixels of a person:

* :func:`check_pixel_keypoints`: ``(T, K, 2)`` pixels and ``(T, K)`` scores from a file:
  non-empty, finite, no frame with every keypoint on one point (such as ``(0, 0)``), not
  normalised coordinates (all within ``|x| <= 1.5`` and ``|y| <= 1.5 * max(1, height /
  width)`` on an image larger than a thumbnail), scores in ``[0, 1]``, a positive finite
  image size;
* :func:`guess_17_layout`: 17 keypoints are Human3.6M-17 or COCO-17. COCO's first five
  keypoints are the face (nose, eyes, ears), a small cluster; Human3.6M's first five are
  pelvis, right leg and left hip, spread over half the body. The ratio of the spread of
  keypoints 0-4 to the spread of the whole body tells them apart (measured: about 0.1
  for a face, 0.5 for a leg); in between, the layout is not guessed.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "NORMALISED_LIMIT",
    "check_image_size",
    "check_pixel_keypoints",
    "check_not_normalised",
    "guess_17_layout",
]

#: Keypoints with all ``|x|`` within this (``|y|`` scaled by the aspect) look normalised.
NORMALISED_LIMIT = 1.5
#: Images at least this large (pixels) make such keypoints suspicious.
_MIN_IMAGE = 32
#: Face-to-body spread ratios: below -> COCO-17, above -> Human3.6M-17.
_COCO_BELOW, _H36M_ABOVE = 0.25, 0.35


def check_image_size(width: object, height: object) -> tuple[float, float]:
    """``(width, height)`` as positive finite floats (pixels).

    Raises:
        ValueError: missing, not a number, NaN, infinite, zero or negative.
    """
    out = []
    for name, value in (("width", width), ("height", height)):
        try:
            number = float(np.asarray(value).item())
        except (TypeError, ValueError):
            raise ValueError(
                f"{name}: expected a positive number of pixels, got {value!r}"
            ) from None
        if not (np.isfinite(number) and number > 0):
            raise ValueError(f"{name}: expected a positive number of pixels, got {number}")
        out.append(number)
    return out[0], out[1]


def check_not_normalised(keypoints: np.ndarray, width: float, height: float, name: str) -> None:
    """Refuse ``(..., 2)`` keypoints that all lie within ``|x| <= 1.5`` and
    ``|y| <= 1.5 * max(1, height / width)`` (where normalised screen coordinates, y scaled
    like x, or ``[0, 1]`` image coordinates lie) while pixels of a ``width x height`` image
    at least 32 pixels large are expected."""
    kp = np.asarray(keypoints, dtype=np.float64)
    limits = np.array([NORMALISED_LIMIT, NORMALISED_LIMIT * max(1.0, height / width)])
    finite = np.isfinite(kp).all(-1)
    if not finite.any() or max(width, height) < _MIN_IMAGE:
        return
    points = kp[finite]
    if (np.abs(points) <= limits).all() and float(np.ptp(points)) > 0:
        raise ValueError(
            f"{name}: every keypoint is within a few units of the origin (largest |x| "
            f"{np.abs(points[:, 0]).max():.3g}, |y| {np.abs(points[:, 1]).max():.3g}) but pixels "
            f"of a {width:g} x {height:g} image are expected; these look like normalised "
            "coordinates: multiply [0, 1] coordinates by the width and height (or use "
            "anatomy_lib.camera.unnormalize_screen for [-1, 1] screen coordinates)"
        )


def check_pixel_keypoints(
    keypoints: object,
    scores: object | None,
    width: object,
    height: object,
    name: str = "keypoints",
) -> tuple[np.ndarray, np.ndarray | None, float, float]:
    """Check one person's keypoints in pixels before they are lifted as they are.

    Args:
        keypoints: ``(T, K, 2)`` pixels (x right, y down).
        scores: ``(T, K)`` confidences in ``[0, 1]``, or None.
        width, height: image size in pixels.
        name: where the keypoints come from (a file name), used in messages.

    Returns:
        ``(keypoints float64, scores float64 or None, width, height)``.

    Raises:
        ValueError: the message says what was expected and what came.
    """
    try:
        kp = np.asarray(keypoints, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: keypoints must be numbers (T, K, 2) in pixels") from None
    if kp.ndim != 3 or kp.shape[-1] != 2:
        raise ValueError(f"{name}: keypoints must have shape (T, K, 2), got {kp.shape}")
    if kp.size == 0:
        raise ValueError(f"{name}: keypoints are empty (shape {kp.shape}): no frame to lift")
    bad = ~np.isfinite(kp)
    if bad.any():
        t, k, _ = np.argwhere(bad)[0]
        raise ValueError(
            f"{name}: {int(bad.any(-1).sum())} keypoints are NaN or infinite (first: frame {t}, "
            f"keypoint {k}); a keypoint file is lifted as it is: fill or interpolate missing "
            "keypoints first (an OpenPose folder or a video fills short gaps itself)"
        )
    if (kp == 0).all():
        raise ValueError(f"{name}: every keypoint is at (0, 0): no detection in this file")
    if kp.shape[1] > 1:
        flat = np.flatnonzero((kp == kp[:, :1]).all(axis=(1, 2)))  # all keypoints on one point
        if len(flat):
            raise ValueError(
                f"{name}: {len(flat)} of {len(kp)} frames have every keypoint at one point "
                f"(first: frame {flat[0]}, at {tuple(kp[flat[0], 0])}), which is how detectors "
                "write 'nobody found'; drop or fill those frames"
            )
    sc = None
    if scores is not None:
        try:
            sc = np.asarray(scores, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{name}: scores must be numbers (T, K) in [0, 1]") from None
        if sc.shape != kp.shape[:2]:
            raise ValueError(
                f"{name}: scores must have shape (T, K) = {kp.shape[:2]} like the keypoints, "
                f"got {sc.shape}"
            )
        if np.isnan(sc).any():
            raise ValueError(
                f"{name}: scores hold {int(np.isnan(sc).sum())} NaN; expected confidences "
                "in [0, 1] (0 for an unseen keypoint)"
            )
        if ((sc < 0) | (sc > 1)).any():
            raise ValueError(
                f"{name}: scores must be confidences in [0, 1], got values from "
                f"{sc.min():g} to {sc.max():g} (rescale them, e.g. percentages / 100)"
            )
    w, h = check_image_size(width, height)
    check_not_normalised(kp, w, h, name)
    return kp, sc, w, h


def guess_17_layout(keypoints: np.ndarray) -> str | None:
    """``"coco17"``, ``"h36m"`` or None (cannot tell) for ``(T, 17, 2)`` keypoints, from the
    spread of keypoints 0-4 relative to the whole body (module docstring)."""
    kp = np.asarray(keypoints, dtype=np.float64)
    if kp.ndim != 3 or kp.shape[1:] != (17, 2):
        raise ValueError(f"keypoints: expected (T, 17, 2), got {kp.shape}")

    def spread(points: np.ndarray) -> np.ndarray:  # (T, n, 2) -> (T,) largest distance
        d = np.linalg.norm(points[:, :, None] - points[:, None], axis=-1)
        return d.max(axis=(1, 2))

    ok = np.isfinite(kp).all(axis=(1, 2))
    if not ok.any():
        return None
    body = spread(kp[ok])
    ratio = spread(kp[ok][:, :5]) / np.where(body > 0, body, np.nan)
    ratio = ratio[np.isfinite(ratio)]
    if ratio.size == 0:
        return None
    r = float(np.median(ratio))
    if r < _COCO_BELOW:
        return "coco17"
    if r > _H36M_ABOVE:
        return "h36m"
    return None

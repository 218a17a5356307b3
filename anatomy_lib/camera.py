"""Cameras: intrinsics with lens distortion, extrinsics, projection and screen normalisation.

Coordinate frames and units:

* **world**: metres, as in the Human3.6M mocap (z up).
* **camera**: metres, x right, y down, z forward (the optical axis). A camera stores the
  rotation ``R`` (camera-to-world, as a unit quaternion ``(w, x, y, z)``) and its centre
  ``t`` in world coordinates, so ``x_cam = R^T (x_world - t)`` and ``x_world = R x_cam + t``.
* **pixels**: image coordinates, x to the right in ``[0, width]``, y down in ``[0, height]``.
* **normalised screen**: x mapped from ``[0, w]`` to ``[-1, 1]``, y scaled by the same factor
  (``y_n = 2 y / w - h / w``), so the aspect ratio is kept.

Projection (:func:`project`) is a pinhole camera with the Human3.6M lens model (the one of
the dataset's own projection routine). With ``(u, v) = (X / Z, Y / Z)`` and
``r2 = u^2 + v^2``::

    radial  = 1 + k1 r2 + k2 r2^2 + k3 r2^3
    tangent = p1 v + p2 u
    u_d     = u (radial + tangent) + p2 r2
    v_d     = v (radial + tangent) + p1 r2
    pixels  = (fx u_d + cx, fy v_d + cy)

This is a first-order form of the Brown-Conrady tangential term (no factor 2, no ``2 u^2``).
VideoPose3D's ``project_to_2d`` uses the same form with the roles of ``p1`` and ``p2``
exchanged and clamps ``(u, v)`` to ``[-1, 1]``; for points in the Human3.6M capture volume
the two differ by about 0.1 pixel (median), up to about 2 pixels near the image borders.
Points on or behind the camera plane (``Z <= 0``) raise ``ValueError``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass, replace

import torch

from ._validation import check_points

__all__ = [
    "Camera",
    "H36M_CAMERA_IDS",
    "H36M_SUBJECTS",
    "h36m_camera",
    "h36m_cameras",
    "quaternion_to_matrix",
    "world_to_camera",
    "camera_to_world",
    "project",
    "project_with_intrinsics",
    "undistort",
    "normalize_screen",
    "unnormalize_screen",
    "project_normalized",
]


@dataclass(frozen=True)
class Camera:
    """One calibrated camera (all numbers are plain Python floats, so it is hashable).

    Attributes:
        id: camera identifier, e.g. ``"54138969"``.
        width, height: image size in pixels.
        focal_length: ``(fx, fy)`` in pixels.
        center: principal point ``(cx, cy)`` in pixels.
        radial: radial distortion ``(k1, k2, k3)``.
        tangential: tangential distortion ``(p1, p2)`` (Human3.6M convention, see module doc).
        orientation: unit quaternion ``(w, x, y, z)`` of the camera-to-world rotation.
        translation: camera centre in world coordinates, metres.
    """

    id: str
    width: int
    height: int
    focal_length: tuple[float, float]
    center: tuple[float, float]
    radial: tuple[float, float, float] = (0.0, 0.0, 0.0)
    tangential: tuple[float, float] = (0.0, 0.0)
    orientation: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0)
    translation: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        sizes = {
            "focal_length": (self.focal_length, 2),
            "center": (self.center, 2),
            "radial": (self.radial, 3),
            "tangential": (self.tangential, 2),
            "orientation": (self.orientation, 4),
            "translation": (self.translation, 3),
        }
        for name, (value, n) in sizes.items():
            if len(value) != n:
                raise ValueError(f"Camera {self.id!r}: {name} needs {n} numbers, got {value!r}")
            if not all(math.isfinite(float(v)) for v in value):
                raise ValueError(f"Camera {self.id!r}: {name} must be finite, got {value!r}")
            object.__setattr__(self, name, tuple(float(v) for v in value))
        if self.width <= 0 or self.height <= 0:
            raise ValueError(
                f"Camera {self.id!r}: image size must be positive, got {self.width}x{self.height}"
            )
        if min(self.focal_length) <= 0:
            raise ValueError(
                f"Camera {self.id!r}: focal lengths must be positive, got {self.focal_length}"
            )
        norm = math.sqrt(sum(q * q for q in self.orientation))
        if abs(norm - 1.0) > 1e-3:
            raise ValueError(
                f"Camera {self.id!r}: orientation must be a unit quaternion (w, x, y, z), "
                f"got norm {norm:.6f}"
            )

    def intrinsics(self, device=None, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """``(9,)`` tensor ``fx fy cx cy k1 k2 k3 p1 p2`` (pixels; distortion unitless)."""
        values = self.focal_length + self.center + self.radial + self.tangential
        return torch.tensor(values, device=device, dtype=dtype)

    def rotation_matrix(self, device=None, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """``(3, 3)`` camera-to-world rotation ``R`` (columns = camera axes in world)."""
        q = torch.tensor(self.orientation, dtype=torch.float64)  # on the CPU: MPS has no float64
        return quaternion_to_matrix(q).to(device=device, dtype=dtype)

    def translation_vector(self, device=None, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """``(3,)`` camera centre in world coordinates, metres."""
        return torch.tensor(self.translation, device=device, dtype=dtype)

    def with_extrinsics(self, orientation: Sequence[float], translation: Sequence[float]) -> Camera:
        """The same intrinsics with another pose (quaternion ``(w, x, y, z)``, metres)."""
        return replace(self, orientation=tuple(orientation), translation=tuple(translation))

    def mirrored(self) -> Camera:
        """The camera that sees a left-right mirrored scene as the horizontally flipped image.

        For a pose mirrored in camera space (``X -> -X``) this camera's normalised projection
        is the normalised projection of the original pose by ``self`` with x negated. With
        the lens model above that needs ``cx -> width - cx`` and ``p2 -> -p2`` (``p2`` is the
        tangential term that is odd in ``u``); everything else, extrinsics included, is kept.
        Applying it twice gives back the original camera.
        """
        return replace(
            self,
            center=(self.width - self.center[0], self.center[1]),
            tangential=(self.tangential[0], -self.tangential[1]),
        )


# ----------------------------------------------------------------------------- geometry


def quaternion_to_matrix(q: torch.Tensor) -> torch.Tensor:
    """Rotation matrices of quaternions ``(w, x, y, z)``.

    Args:
        q: ``(..., 4)`` quaternions; they are normalised first (a zero quaternion raises).

    Returns:
        ``(..., 3, 3)`` rotation matrices (orthonormal, determinant +1).
    """
    if not isinstance(q, torch.Tensor) or q.dim() < 1 or q.shape[-1] != 4:
        got = tuple(q.shape) if isinstance(q, torch.Tensor) else type(q).__name__
        raise ValueError(f"quaternion: expected shape (..., 4) as (w, x, y, z), got {got}")
    norm = q.norm(dim=-1, keepdim=True)
    if bool((norm == 0).any()):
        raise ValueError("quaternion: got a zero quaternion, which is no rotation")
    w, x, y, z = (q / norm).unbind(-1)
    rows = (
        (1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)),
        (2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)),
        (2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)),
    )
    return torch.stack([torch.stack(r, dim=-1) for r in rows], dim=-2)


def world_to_camera(x: torch.Tensor, camera: Camera) -> torch.Tensor:
    """World points to camera coordinates, ``R^T (x - t)``.

    Args:
        x: ``(..., J, 3)`` world coordinates, metres.
        camera: the camera.

    Returns:
        ``(..., J, 3)`` camera coordinates, metres.
    """
    check_points(x, None, coords=3, name="world points")
    rot = camera.rotation_matrix(x.device, x.dtype)
    return (x - camera.translation_vector(x.device, x.dtype)) @ rot


def camera_to_world(x: torch.Tensor, camera: Camera) -> torch.Tensor:
    """Camera coordinates to world points, ``R x + t``.

    Args:
        x: ``(..., J, 3)`` camera coordinates, metres.
        camera: the camera.

    Returns:
        ``(..., J, 3)`` world coordinates, metres.
    """
    check_points(x, None, coords=3, name="camera points")
    rot = camera.rotation_matrix(x.device, x.dtype)
    return x @ rot.transpose(-1, -2) + camera.translation_vector(x.device, x.dtype)


def project_with_intrinsics(
    x_cam: torch.Tensor, intrinsics: torch.Tensor, distort: bool = True
) -> torch.Tensor:
    """Project camera-space points with an intrinsics tensor (one or a batch of cameras).

    Args:
        x_cam: ``(..., J, 3)`` camera coordinates, metres, with ``Z > 0``.
        intrinsics: ``(..., 9)`` as :meth:`Camera.intrinsics` (``fx fy cx cy k1 k2 k3 p1 p2``);
            its leading dimensions broadcast against those of ``x_cam`` without ``J``.
        distort: apply the lens distortion (else a plain pinhole).

    Returns:
        ``(..., J, 2)`` pixel coordinates.

    Raises:
        ValueError: wrong shapes, non-finite values or a point with ``Z <= 0``.
    """
    check_points(x_cam, None, coords=3, name="camera points")
    if not isinstance(intrinsics, torch.Tensor) or intrinsics.shape[-1:] != (9,):
        got = tuple(intrinsics.shape) if isinstance(intrinsics, torch.Tensor) else intrinsics
        raise ValueError(
            f"intrinsics: expected shape (..., 9) = fx fy cx cy k1 k2 k3 p1 p2, got {got}"
        )
    depth = x_cam[..., 2:]
    if bool((depth <= 0).any()):
        raise ValueError(
            f"camera points: {int((depth <= 0).sum())} point(s) have Z <= 0 (on or behind the "
            "camera plane) and cannot be projected; are they in world instead of camera space?"
        )
    k = intrinsics.to(x_cam.dtype).unsqueeze(-2)  # (..., 1, 9), broadcasts over joints
    uv = x_cam[..., :2] / depth
    if distort:
        u, v = uv.unbind(-1)
        r2 = u * u + v * v
        k1, k2, k3, p1, p2 = (k[..., i] for i in range(4, 9))
        scale = 1 + r2 * (k1 + r2 * (k2 + r2 * k3)) + p1 * v + p2 * u
        uv = torch.stack((u * scale + p2 * r2, v * scale + p1 * r2), dim=-1)
    return uv * k[..., 0:2] + k[..., 2:4]


def project(x_cam: torch.Tensor, camera: Camera, distort: bool = True) -> torch.Tensor:
    """Project camera-space points to pixels (pinhole + Human3.6M distortion, see module doc).

    Args:
        x_cam: ``(..., J, 3)`` camera coordinates, metres, with ``Z > 0``.
        camera: the camera.
        distort: apply the lens distortion.

    Returns:
        ``(..., J, 2)`` pixel coordinates.
    """
    if not isinstance(x_cam, torch.Tensor):
        raise TypeError(f"camera points: expected a torch.Tensor, got {type(x_cam).__name__}")
    return project_with_intrinsics(x_cam, camera.intrinsics(x_cam.device, x_cam.dtype), distort)


def undistort(pixels: torch.Tensor, camera: Camera, iterations: int = 50) -> torch.Tensor:
    """Pinhole image-plane coordinates ``(X / Z, Y / Z)`` of pixels: the inverse of
    :func:`project` up to depth, the lens model inverted by fixed-point iteration.

    Args:
        pixels: ``(..., 2)`` pixel coordinates (NaN passes through).
        camera: the camera.
        iterations: fixed-point steps (the residual shrinks by about ``|k1| r^2`` each).

    Returns:
        ``(..., 2)`` undistorted normalised coordinates; ``project`` of ``(u, v, 1)`` gives
        ``pixels`` back.
    """
    if not isinstance(pixels, torch.Tensor) or pixels.dim() < 1 or pixels.shape[-1] != 2:
        got = tuple(pixels.shape) if isinstance(pixels, torch.Tensor) else type(pixels).__name__
        raise ValueError(f"pixels: expected a tensor of shape (..., 2), got {got}")
    fx, fy, cx, cy, k1, k2, k3, p1, p2 = camera.intrinsics(dtype=torch.float64).tolist()
    xd = (pixels[..., 0] - cx) / fx
    yd = (pixels[..., 1] - cy) / fy
    u, v = xd, yd
    for _ in range(iterations):
        r2 = u * u + v * v
        scale = 1 + r2 * (k1 + r2 * (k2 + r2 * k3)) + p1 * v + p2 * u
        u, v = (xd - p2 * r2) / scale, (yd - p1 * r2) / scale
    return torch.stack((u, v), dim=-1)


def _check_screen(x: torch.Tensor, name: str, width: float, height: float) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() < 1 or x.shape[-1] != 2:
        got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name}: expected a tensor of shape (..., 2), got {got}")
    if not (width > 0 and height > 0):
        raise ValueError(f"image size must be positive, got width={width}, height={height}")


def normalize_screen(pixels: torch.Tensor, width: float, height: float) -> torch.Tensor:
    """Pixels to normalised screen coordinates: x ``[0, w] -> [-1, 1]``, y with the same scale.

    Args:
        pixels: ``(..., 2)`` pixel coordinates.
        width, height: image size in pixels.

    Returns:
        ``(..., 2)`` normalised coordinates (``y`` in ``[-h/w, h/w]``).
    """
    _check_screen(pixels, "pixels", width, height)
    offset = torch.tensor((1.0, height / width), device=pixels.device, dtype=pixels.dtype)
    return pixels * (2.0 / width) - offset


def unnormalize_screen(norm: torch.Tensor, width: float, height: float) -> torch.Tensor:
    """Inverse of :func:`normalize_screen`: ``(..., 2)`` normalised -> ``(..., 2)`` pixels."""
    _check_screen(norm, "normalised points", width, height)
    offset = torch.tensor((1.0, height / width), device=norm.device, dtype=norm.dtype)
    return (norm + offset) * (width / 2.0)


def project_normalized(x_cam: torch.Tensor, camera: Camera, distort: bool = True) -> torch.Tensor:
    """:func:`project` then :func:`normalize_screen` with the camera's image size.

    Args:
        x_cam: ``(..., J, 3)`` camera coordinates, metres, with ``Z > 0``.
        camera: the camera.
        distort: apply the lens distortion.

    Returns:
        ``(..., J, 2)`` normalised screen coordinates.
    """
    return normalize_screen(project(x_cam, camera, distort), camera.width, camera.height)


# ------------------------------------------------------------------ Human3.6M cameras
#
# Numbers transcribed from facebookresearch/VideoPose3D, common/h36m_dataset.py (public
# Human3.6M calibration, also in the dataset's metadata.xml). Translations there are in
# millimetres; they are converted to metres below. No extrinsics are published for S2-S4.

# id, (width, height), (fx, fy), (cx, cy), (k1, k2, k3), (p1, p2)
_H36M_INTRINSICS = (
    (
        "54138969",
        (1000, 1002),
        (1145.0494384765625, 1143.7811279296875),
        (512.54150390625, 515.4514770507812),
        (-0.20709891617298126, 0.24777518212795258, -0.0030751503072679043),
        (-0.0009756988729350269, -0.00142447161488235),
    ),
    (
        "55011271",
        (1000, 1000),
        (1149.6756591796875, 1147.5916748046875),
        (508.8486328125, 508.0649108886719),
        (-0.1942136287689209, 0.2404085397720337, 0.006819975562393665),
        (-0.0016190266469493508, -0.0027408944442868233),
    ),
    (
        "58860488",
        (1000, 1000),
        (1149.1407470703125, 1148.7989501953125),
        (519.8158569335938, 501.40264892578125),
        (-0.2083381861448288, 0.25548800826072693, -0.0024604974314570427),
        (0.0014843869721516967, -0.0007599993259645998),
    ),
    (
        "60457274",
        (1000, 1002),
        (1145.5113525390625, 1144.77392578125),
        (514.9682006835938, 501.88201904296875),
        (-0.198384091258049, 0.21832367777824402, -0.008947807364165783),
        (-0.0005872055771760643, -0.0018133620033040643),
    ),
)

# subject -> per camera (in _H36M_INTRINSICS order): quaternion (w, x, y, z), centre in mm
_H36M_EXTRINSICS_MM = {
    "S1": (
        (
            (0.1407056450843811, -0.1500701755285263, -0.755240797996521, 0.6223280429840088),
            (1841.1070556640625, 4955.28466796875, 1563.4454345703125),
        ),
        (
            (0.6157187819480896, -0.764836311340332, -0.14833825826644897, 0.11794740706682205),
            (1761.278564453125, -5078.0068359375, 1606.2650146484375),
        ),
        (
            (0.14651472866535187, -0.14647851884365082, 0.7653023600578308, -0.6094175577163696),
            (-1846.7777099609375, 5215.04638671875, 1491.972412109375),
        ),
        (
            (0.5834008455276489, -0.7853162288665771, 0.14548823237419128, -0.14749594032764435),
            (-1794.7896728515625, -3722.698974609375, 1574.8927001953125),
        ),
    ),
    "S5": (
        (
            (0.1467377245426178, -0.162370964884758, -0.7551892995834351, 0.6178938746452332),
            (2097.3916015625, 4880.94482421875, 1605.732421875),
        ),
        (
            (0.6159758567810059, -0.7626792192459106, -0.15728192031383514, 0.1189815029501915),
            (2031.7008056640625, -5167.93310546875, 1612.923095703125),
        ),
        (
            (0.14291371405124664, -0.12907841801643372, 0.7678384780883789, -0.6110143065452576),
            (-1620.5948486328125, 5171.65869140625, 1496.43701171875),
        ),
        (
            (0.5920479893684387, -0.7814217805862427, 0.1274748593568802, -0.15036417543888092),
            (-1637.1737060546875, -3867.3173828125, 1547.033203125),
        ),
    ),
    "S6": (
        (
            (0.1337897777557373, -0.15692396461963654, -0.7571090459823608, 0.6198879480361938),
            (1935.4517822265625, 4950.24560546875, 1618.0838623046875),
        ),
        (
            (0.6147197484970093, -0.7628812789916992, -0.16174767911434174, 0.11819244921207428),
            (1969.803955078125, -5128.73876953125, 1632.77880859375),
        ),
        (
            (0.1529948115348816, -0.13529130816459656, 0.7646096348762512, -0.6112781167030334),
            (-1769.596435546875, 5185.361328125, 1476.993408203125),
        ),
        (
            (0.5916101336479187, -0.7804774045944214, 0.12832270562648773, -0.1561593860387802),
            (-1721.668701171875, -3884.13134765625, 1540.4879150390625),
        ),
    ),
    "S7": (
        (
            (0.1435241848230362, -0.1631336808204651, -0.7548328638076782, 0.6188824772834778),
            (1974.512939453125, 4926.3544921875, 1597.8326416015625),
        ),
        (
            (0.6141672730445862, -0.7638262510299683, -0.1596645563840866, 0.1177929937839508),
            (1937.0584716796875, -5119.7900390625, 1631.5665283203125),
        ),
        (
            (0.14550060033798218, -0.12874816358089447, 0.7660516500473022, -0.6127139329910278),
            (-1741.8111572265625, 5208.24951171875, 1464.8245849609375),
        ),
        (
            (0.5912848114967346, -0.7821764349937439, 0.12445473670959473, -0.15196487307548523),
            (-1734.7105712890625, -3832.42138671875, 1548.5830078125),
        ),
    ),
    "S8": (
        (
            (0.14110587537288666, -0.15589867532253265, -0.7561917304992676, 0.619644045829773),
            (2150.65185546875, 4896.1611328125, 1611.9046630859375),
        ),
        (
            (0.6169601678848267, -0.7647668123245239, -0.14846350252628326, 0.11158157885074615),
            (2219.965576171875, -5148.453125, 1613.0440673828125),
        ),
        (
            (0.1471444070339203, -0.13377119600772858, 0.7670128345489502, -0.6100369691848755),
            (-1571.2215576171875, 5137.0185546875, 1498.1761474609375),
        ),
        (
            (0.5927824378013611, -0.7825870513916016, 0.12147816270589828, -0.14631995558738708),
            (-1476.913330078125, -3896.7412109375, 1547.97216796875),
        ),
    ),
    "S9": (
        (
            (0.15540587902069092, -0.15548215806484222, -0.7532095313072205, 0.6199594736099243),
            (2044.45849609375, 4935.1171875, 1481.2275390625),
        ),
        (
            (0.618784487247467, -0.7634735107421875, -0.14132238924503326, 0.11933968216180801),
            (1990.959716796875, -5123.810546875, 1568.8048095703125),
        ),
        (
            (0.13357827067375183, -0.1367100477218628, 0.7689454555511475, -0.6100738644599915),
            (-1670.9921875, 5211.98583984375, 1528.387939453125),
        ),
        (
            (0.5879399180412292, -0.7823407053947449, 0.1427614390850067, -0.14794869720935822),
            (-1696.04345703125, -3827.099853515625, 1591.4127197265625),
        ),
    ),
    "S11": (
        (
            (0.15232472121715546, -0.15442320704460144, -0.7547563314437866, 0.6191070079803467),
            (2098.440185546875, 4926.5546875, 1500.278564453125),
        ),
        (
            (0.6189449429512024, -0.7600917220115662, -0.15300633013248444, 0.1255258321762085),
            (2083.182373046875, -4912.1728515625, 1561.07861328125),
        ),
        (
            (0.14943228662014008, -0.15650227665901184, 0.7681233882904053, -0.6026304364204407),
            (-1609.8153076171875, 5177.3359375, 1537.896728515625),
        ),
        (
            (0.5894251465797424, -0.7818877100944519, 0.13991211354732513, -0.14715361595153809),
            (-1590.738037109375, -3854.1689453125, 1578.017578125),
        ),
    ),
}

#: The four Human3.6M camera ids, in the dataset's order (index 0-3 of :func:`h36m_camera`).
H36M_CAMERA_IDS: tuple[str, ...] = tuple(c[0] for c in _H36M_INTRINSICS)

#: Subjects with published extrinsics.
H36M_SUBJECTS: tuple[str, ...] = tuple(_H36M_EXTRINSICS_MM)


def h36m_camera(subject: str, index: int) -> Camera:
    """The Human3.6M camera ``index`` (0-3, order of :data:`H36M_CAMERA_IDS`) for ``subject``.

    Args:
        subject: ``"S1"``, ``"S5"``, ``"S6"``, ``"S7"``, ``"S8"``, ``"S9"`` or ``"S11"``.
        index: camera index 0-3.

    Returns:
        The :class:`Camera`, translation in metres.
    """
    if subject not in _H36M_EXTRINSICS_MM:
        raise ValueError(
            f"unknown Human3.6M subject {subject!r}: published camera extrinsics exist for "
            f"{', '.join(H36M_SUBJECTS)}"
        )
    try:
        position = operator.index(index)
    except TypeError:
        position = -1
    if not 0 <= position < len(_H36M_INTRINSICS):
        raise ValueError(f"Human3.6M camera index must be 0-3, got {index!r}")
    cam_id, (w, h), f, c, k, p = _H36M_INTRINSICS[position]
    quaternion, centre_mm = _H36M_EXTRINSICS_MM[subject][position]
    return Camera(
        id=cam_id,
        width=w,
        height=h,
        focal_length=f,
        center=c,
        radial=k,
        tangential=p,
        orientation=quaternion,
        translation=tuple(v / 1000.0 for v in centre_mm),
    )


def h36m_cameras(subject: str) -> list[Camera]:
    """The four Human3.6M cameras of ``subject``, in :data:`H36M_CAMERA_IDS` order."""
    return [h36m_camera(subject, i) for i in range(len(_H36M_INTRINSICS))]

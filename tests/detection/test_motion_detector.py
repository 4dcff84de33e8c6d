"""The motion detector on synthetic 160 x 90 gray frames: what it must ignore and must see.

Pure computation (detection/motion.py has no threads, clock or I/O), so these run in
milliseconds; the camera tests (test_motion_daemon.py) cover the same through H.264.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from lightnvr.video.detection.motion import MotionDetector, MotionSettings
from lightnvr.video.detection.zones import zone_mask

H, W = 90, 160
rng = np.random.default_rng(11)
# A textured still scene: gradients and bars, like a room (flat scenes hide noise problems).
_yy, _xx = np.mgrid[0:H, 0:W]
SCENE = (60 + 0.6 * _xx + 40 * ((_xx // 20) % 2) + 0.3 * _yy).astype(np.float32)


def _frame(scene: npt.NDArray[np.float32], noise: float = 8.0) -> npt.NDArray[np.uint8]:
    noisy = scene + rng.normal(0.0, noise, scene.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def _with_box(x: int, y: int, w: int, h: int, level: float = 20.0,
              scene: npt.NDArray[np.float32] = SCENE) -> npt.NDArray[np.float32]:
    out = scene.copy()
    out[y:y + h, x:x + w] = level
    return out


def test_sensor_noise_is_not_motion() -> None:
    det = MotionDetector()
    results = [det.analyse(_frame(SCENE, noise=12.0), t * 2.0) for t in range(60)]
    assert not any(r.moving for r in results)


def test_slow_light_change_and_exposure_jumps_are_not_motion() -> None:
    det = MotionDetector()
    moving = []
    for t in range(80):
        gain = 1.0 - 0.008 * t                      # dusk: -0.8 % of the light per sample
        jump = 45.0 if t >= 40 else 0.0             # the camera's auto exposure steps up
        moving.append(det.analyse(_frame(SCENE * gain + jump), t * 2.0).moving)
    assert not any(moving)


def test_a_person_sized_object_crossing_is_motion_where_it_is() -> None:
    det = MotionDetector()
    det.analyse(_frame(SCENE), 0.0)
    seen = []
    for i, x in enumerate(range(5, 140, 15)):       # 14 x 36 px: ~3.5 % of the picture
        r = det.analyse(_frame(_with_box(x, 30, 14, 36)), (i + 1) * 2.0)
        seen.append(r.moving)
        if r.moving:  # the box (whole grid cells) holds the object's centre
            bx, by, bw, bh = r.box
            assert bx <= (x + 7) / W <= bx + bw
            assert by <= 48 / H <= by + bh
    assert all(seen)


def test_objects_below_the_minimum_area_are_not_motion() -> None:
    det = MotionDetector(MotionSettings(min_area=0.05))
    det.analyse(_frame(SCENE), 0.0)
    small = [det.analyse(_frame(_with_box(10 + 12 * i, 40, 10, 10)), 2.0 * (i + 1)).moving
             for i in range(8)]                     # 10 x 10 px: 0.7 % of the picture
    assert not any(small)
    big = det.analyse(_frame(_with_box(60, 10, 40, 70)), 20.0)
    assert big.moving


def test_sensitivity_decides_whether_a_faint_object_counts() -> None:
    faint = SCENE + 0.0
    faint[30:66, 70:90] += 22                       # 22 gray levels brighter, no more
    for sensitivity, expected in ((0.0, False), (1.0, True)):
        det = MotionDetector(MotionSettings(sensitivity=sensitivity))
        det.analyse(_frame(SCENE, noise=2.0), 0.0)
        assert det.analyse(_frame(faint, noise=2.0), 2.0).moving is expected, sensitivity


def test_cooldown_spaces_events_while_motion_goes_on() -> None:
    det = MotionDetector(MotionSettings(cooldown=5.0))
    det.analyse(_frame(SCENE), 0.0)
    results = [det.analyse(_frame(_with_box(10 + 10 * i, 20, 20, 50)), 1.0 + i)
               for i in range(12)]                  # one frame a second, always moving
    assert all(r.moving for r in results)
    event_times = [1.0 + i for i, r in enumerate(results) if r.event]
    assert event_times == [1.0, 6.0, 11.0]


def test_zone_mask_counts_motion_only_inside_include_and_outside_exclude_zones() -> None:
    left = ((0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0))
    right = ((0.5, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 1.0))
    box_right = _with_box(100, 20, 30, 50)          # an object in the right half
    for include, exclude, expected in (((left,), (), False), ((right,), (), True),
                                       ((), (right,), False), ((), (left,), True),
                                       ((right,), (right,), False)):
        det = MotionDetector()
        det.set_mask(zone_mask(include, exclude, W, H))
        det.analyse(_frame(SCENE), 0.0)
        assert det.analyse(_frame(box_right), 2.0).moving is expected, (include, exclude)

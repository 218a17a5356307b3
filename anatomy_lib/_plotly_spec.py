"""Plotly figure parts as plain dicts (no plotly import): the animation player.

Plotly's Python objects validate every property, which dominates the time of figures with
many animation frames; the figures of :mod:`anatomy_lib.viz.figures` and
:mod:`anatomy_lib.wild.figure` build their frames and player as plain dicts instead.
"""

from __future__ import annotations

__all__ = ["player_layout"]


def player_layout(frame_names: list[str], fps: float, redraw: bool, prefix: str) -> dict:
    """Layout entries (``updatemenus`` and ``sliders``) for play/pause buttons and a frame
    slider over frames named ``frame_names``, playing at ``fps`` frames per second."""
    step_args = {
        "mode": "immediate",
        "frame": {"duration": 0, "redraw": redraw},
        "transition": {"duration": 0},
    }
    play = {
        "frame": {"duration": 1000.0 / fps, "redraw": redraw},
        "fromcurrent": True,
        "transition": {"duration": 0},
    }
    buttons = [
        {"label": "Play", "method": "animate", "args": [None, play]},
        {"label": "Pause", "method": "animate", "args": [[None], step_args]},
    ]
    steps = [{"label": n, "method": "animate", "args": [[n], step_args]} for n in frame_names]
    return {
        "updatemenus": [
            {
                "type": "buttons", "direction": "left", "showactive": False, "x": 0.0,
                "y": 0.0, "xanchor": "left", "yanchor": "top", "pad": {"t": 40, "r": 10},
                "buttons": buttons,
            }
        ],
        "sliders": [
            {
                "active": 0, "x": 0.15, "len": 0.85, "y": 0.0, "yanchor": "top",
                "pad": {"t": 30}, "currentvalue": {"prefix": prefix}, "steps": steps,
            }
        ],
    }  # fmt: skip

"""A real kiosk window for the Xvfb end-to-end test (run as a script, not collected by pytest).

Builds a small fake station that moves idle -> ready -> live on the commands it gets, runs
``run_kiosk`` windowed on whatever X display ``$DISPLAY`` names, and reports on stdout, one line
each: ``TARGET <screen> <kind> <x> <y>`` (where the button to tap is, in window pixels) when a
screen first shows, and ``COMMAND <kind>`` for every command the station handled. It stops after
``--commands`` commands or ``--seconds`` seconds.
"""

from __future__ import annotations

import argparse
import sys

from display.app import run_kiosk
from display.render import Renderer
from station.config import AudioConfig, DisplayConfig
from station.view import LiveView, Targets, UICommand, ViewState

TITLE = "gym-station xvfb test"
NEXT = {("idle", "button_press"): "ready", ("ready", "start_set"): "live",
        ("live", "end_set"): "idle"}
TAP = {"idle": "button_press", "ready": "start_set", "live": "end_set"}


class Kiosk:
    def __init__(self, size, stop_after: int):
        self.screen = "idle"
        self.handled = 0
        self.stop_after = stop_after
        self.renderer = Renderer(size)
        self.announced = set()

    def handle(self, command: UICommand) -> None:
        print(f"COMMAND {command.kind}", flush=True)
        self.handled += 1
        self.screen = NEXT.get((self.screen, command.kind), self.screen)

    def feed(self, samples) -> None:
        pass

    def tick(self, status) -> None:
        pass

    def view(self) -> ViewState:
        v = ViewState(
            screen=self.screen, station_name="Xvfb station", exercise_id="single_leg_hip_thrust",
            exercise_name="Single-leg hip thrust", side="left", sides=("left", "right"),
            tips=("Drive through the heel.",),
            targets=Targets(reps=8, sets=3, hold_s=1.0, drive_zone="heel", share_min=0.6,
                            min_lower_s=1.5),
            roster=(("a1", "Maria Lopez"),), live=LiveView())
        if self.screen not in self.announced:
            self.announced.add(self.screen)
            for button in self.renderer.buttons(v):
                if button.command is not None and button.command.kind == TAP[self.screen]:
                    x, y = button.rect.center
                    print(f"TARGET {self.screen} {button.command.kind} {x} {y}", flush=True)
        return v

    def take_cues(self):
        return []


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--commands", type=int, default=2)
    a = p.parse_args(argv)
    size = (800, 480)
    kiosk = Kiosk(size, a.commands)
    stats = run_kiosk(
        kiosk, lambda: [], lambda: None,
        display_cfg=DisplayConfig(width=0, height=0, fullscreen=False, rotation=0, fps=60,
                                  hide_cursor=True),
        audio_cfg=AudioConfig(volume=0.0, mute=True, speech=False, voice="en",
                              quiet_hours=None, quiet_volume=0.0, buffer=512),
        size=size, seconds=a.seconds, title=TITLE,
        on_frame=lambda s, v: kiosk.handled >= kiosk.stop_after)
    print(f"DONE frames={stats.frames} screens={','.join(stats.screens)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

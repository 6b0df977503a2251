"""`gym-station demo --headless`: the newcomer's first command, end to end through the CLI: the
simulated athlete, the real analysis and kiosk, the real renderer and sound, PNGs of each screen."""

import numpy as np
import pygame

from station.cli import main
from station.config import load_config
from station.kiosk_run import cue_phrases, profiles_for


def test_headless_demo_reaches_every_screen_and_writes_them(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SDL_DISKAUDIOFILE", raising=False)
    monkeypatch.setenv("SDL_AUDIODRIVER", "disk")
    shots = tmp_path / "shots"
    code = main(["--state-dir", str(tmp_path / "state"), "demo", "--headless", "--seconds", "75",
                 "--screenshots", str(shots)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "idle -> ready -> live -> summary -> ready -> live" in out
    names = sorted(p.name for p in shots.glob("*.png"))
    for screen in ("idle", "ready", "live", "summary"):
        assert any(screen in n for n in names), names
    img = pygame.image.load(str(next(shots.glob("*summary*.png"))))
    assert img.get_size() == (800, 480)
    assert np.asarray(pygame.surfarray.array3d(img)).std() > 10   # not a blank frame
    audio = np.fromfile(shots / "audio.raw", dtype=np.int16)
    assert audio.size and np.abs(audio).max() > 1000              # cues were heard


def test_demo_needs_seconds_when_headless(tmp_path, capsys):
    assert main(["--state-dir", str(tmp_path), "demo", "--headless"]) == 2
    assert "--seconds" in capsys.readouterr().err


def test_every_cue_text_is_prepared_for_speech():
    phrases = cue_phrases(profiles_for(load_config()))
    assert "Hold it." in phrases and len(phrases) == len(set(phrases))

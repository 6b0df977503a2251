"""Cue sounds: tones synthesised and really played (captured by SDL's disk audio driver),
espeak-ng phrases rendered once and cached, fallbacks, quiet hours and mute."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import stat
import wave

import numpy as np
import pygame
import pytest
from audio_probe import captured, onsets, starts_where_played, stream_until, streamed

from display import sound
from display.sound import TONES, CuePlayer, in_quiet_hours, render_phrase, tone_wave
from station.config import AudioConfig
from station.view import Cue

RATE = sound.SAMPLE_RATE
HAVE_ESPEAK = shutil.which("espeak-ng") is not None
needs_espeak = pytest.mark.skipif(not HAVE_ESPEAK, reason="espeak-ng is not installed "
                                  "(apt-get install espeak-ng)")


def audio_cfg(**kw) -> AudioConfig:
    base = dict(volume=0.8, mute=False, speech=True, voice="en", quiet_hours=None,
                quiet_volume=0.3, buffer=512)
    base.update(kw)
    return AudioConfig(**base)


def cue(kind="rep_count", sound_id="rep", text="One", priority=1, t=0.0) -> Cue:
    return Cue(kind=kind, text=text, sound=sound_id, priority=priority, t=t)


def peak_hz(x: np.ndarray, rate: int = RATE) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[np.argmax(spectrum)])


@pytest.fixture
def disk_mixer(tmp_path, monkeypatch):
    """An SDL mixer writing what it plays to a raw file (mono, signed 16-bit, 44.1 kHz)."""
    raw = tmp_path / "audio.raw"
    monkeypatch.setenv("SDL_AUDIODRIVER", "disk")
    monkeypatch.setenv("SDL_DISKAUDIOFILE", str(raw))
    monkeypatch.delenv("SDL_DISKAUDIODELAY", raising=False)  # real-time pacing
    pygame.mixer.quit()
    sound.pre_init(audio_cfg())
    pygame.mixer.init()
    assert pygame.mixer.get_init() == (RATE, -16, 1)
    yield raw
    pygame.mixer.quit()


# ------------------------------------------------------------------------- synthesis

@pytest.mark.parametrize("name", list(TONES))
def test_each_tone_has_its_pitch_and_no_click(name):
    x = tone_wave(name)
    first = TONES[name][0]
    n = int(first.seconds * RATE)
    assert abs(peak_hz(x[:n]) - first.hz) < 15
    # starts and ends at (near) zero: an abrupt edge is an audible click
    assert abs(x[0]) < 1e-3 and abs(x[-1]) < 1e-2
    assert np.max(np.abs(np.diff(x[:50]))) < 0.05
    assert 0.5 < np.max(np.abs(x)) <= 0.6 + 1e-6


def test_tones_are_distinct():
    shapes = {name: (len(tone_wave(name)), round(peak_hz(tone_wave(name)))) for name in TONES}
    assert len(set(shapes.values())) == len(TONES)
    with pytest.raises(ValueError, match="unknown tone 'beep'"):
        tone_wave("beep")


def test_mixer_bytes_follow_the_mixer_format():
    x = np.array([0.0, 1.0, -1.0], dtype=np.float32)
    mono = np.frombuffer(sound.to_mixer_bytes(x, (RATE, -16, 1)), dtype=np.int16)
    assert mono.tolist() == [0, 32767, -32767]
    stereo = np.frombuffer(sound.to_mixer_bytes(x, (RATE, -16, 2)), dtype=np.int16)
    assert stereo.tolist() == [0, 0, 32767, 32767, -32767, -32767]


# ------------------------------------------------------------------------- played for real

def test_played_tone_is_in_the_disk_audio_at_the_right_offset(disk_mixer):
    with CuePlayer(audio_cfg(volume=1.0), cache_dir=disk_mixer.parent) as player:
        stream_until(disk_mixer, RATE // 4)  # let the device stream silence first
        before = streamed(disk_mixer)  # samples already streamed at play time
        assert player.play(cue(sound_id="warning", kind="toe_drive")) == "tone:warning"
        after = streamed(disk_mixer)
        stream_until(disk_mixer, after + int(0.6 * RATE))
    pygame.mixer.quit()
    x = captured(disk_mixer)
    on = onsets(x)
    assert len(on), "nothing audible was captured"
    start = on[0]
    # within a couple of mixer buffers (+ the stdio buffer of the file) of the stream position
    assert starts_where_played(start, before, after), (before, after, start)
    assert np.all(np.abs(x[:start]) < 0.02)  # silence before
    note = TONES["warning"][0]
    segment = x[start:start + int(note.seconds * RATE)]
    assert abs(peak_hz(segment) - 311.0) < 15
    # the double buzz: a gap, then the second note
    gap_at = start + int((note.seconds + note.gap_s / 2) * RATE)
    assert np.max(np.abs(x[gap_at - 200:gap_at + 200])) < 0.02
    assert np.max(np.abs(x[gap_at + int(note.gap_s * RATE):][:2000])) > 0.1


def test_mute_plays_nothing(disk_mixer):
    with CuePlayer(audio_cfg(mute=True), cache_dir=disk_mixer.parent) as player:
        assert player.volume() == 0.0
        assert player.play(cue()) is None
        assert player.play_tone("good") is False
        stream_until(disk_mixer, int(0.3 * RATE))
    pygame.mixer.quit()
    assert len(captured(disk_mixer)) > RATE // 10  # the device did run...
    assert len(onsets(captured(disk_mixer))) == 0  # ...and stayed silent


def test_volume_scales_the_captured_tone(disk_mixer):
    with CuePlayer(audio_cfg(volume=0.25), cache_dir=disk_mixer.parent) as player:
        stream_until(disk_mixer, RATE // 10)
        player.play(cue(sound_id="rep"))
        stream_until(disk_mixer, streamed(disk_mixer) + int(0.35 * RATE))
    pygame.mixer.quit()
    peak = np.max(np.abs(captured(disk_mixer)))
    assert 0.6 * 0.25 * 0.85 < peak < 0.6 * 0.25 * 1.15


def test_no_sound_id_is_silent(disk_mixer):
    with CuePlayer(audio_cfg(), cache_dir=disk_mixer.parent) as player:
        assert player.play(cue(sound_id=None)) is None


def test_the_players_record_of_what_played_stays_bounded(tmp_path):
    """A kiosk plays cues all day: the player keeps the latest it played, not every one."""
    pygame.mixer.quit()
    with CuePlayer(audio_cfg(speech=False), cache_dir=tmp_path) as player:
        assert player.enabled
        for i in range(1500):
            assert player.play(cue(kind=f"rep_{i}")) == "tone:rep"
        assert len(player.played) == 1000
        assert player.played[-1] == ("rep_1499", "tone:rep") and player.played[0][0] == "rep_500"
    pygame.mixer.quit()


def test_audio_device_failure_leaves_sound_off(monkeypatch, caplog):
    pygame.mixer.quit()
    monkeypatch.setenv("SDL_AUDIODRIVER", "no-such-audio-driver")
    with caplog.at_level(logging.WARNING, logger="display.sound"):
        player = CuePlayer(audio_cfg())
    try:
        assert not player.enabled
        assert player.play(cue()) is None
        assert player.play(cue(sound_id="say", kind="hold", text="Hold it.")) is None
        assert "sound is off" in caplog.text and "still shows on screen" in caplog.text
    finally:
        player.close()
        player.close()  # safe twice
        pygame.mixer.quit()


# ------------------------------------------------------------------------- spoken phrases

def counting_espeak(tmp_path):
    """A wrapper that counts its runs and then runs the real espeak-ng."""
    real = shutil.which("espeak-ng")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "espeak-ng"
    script.write_text(f'#!/bin/sh\necho run >> "{tmp_path}/runs"\nexec "{real}" "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script), tmp_path / "runs"


@needs_espeak
def test_phrase_rendered_once_then_cached(tmp_path):
    exe, runs = counting_espeak(tmp_path)
    cache = tmp_path / "cache"
    first = render_phrase("Push through your heel, not your toes.", "en", cache, exe)
    with wave.open(str(first)) as w:
        assert w.getnframes() / w.getframerate() > 0.8  # a real spoken phrase
    second = render_phrase("Push through your heel, not your toes.", "en", cache, exe)
    assert second == first
    assert runs.read_text().count("run") == 1
    other = render_phrase("-Hold it.", "en", cache, exe)  # a leading dash is text, not an option
    assert other != first and other.exists()
    assert runs.read_text().count("run") == 2
    assert sound.phrase_path(cache, "en-us", "Hold it.") != sound.phrase_path(cache, "en", "Hold it.")


@needs_espeak
def test_bad_voice_is_a_readable_error(tmp_path):
    with pytest.raises(RuntimeError, match="check audio.voice"):
        render_phrase("Hold it.", "nosuchvoice", tmp_path)
    assert not list(tmp_path.iterdir())  # nothing half-written left in the cache


@needs_espeak
def test_spoken_cue_after_background_render(disk_mixer, tmp_path):
    text = "Drive through your heel."
    with CuePlayer(audio_cfg(volume=1.0), cache_dir=tmp_path / "cache") as player:
        c = cue(kind="drive", sound_id="say", text=text, priority=2)
        # not rendered yet: the tone plays now and the phrase is rendered for next time
        assert player.play(c) == "tone:rep"
        assert player.wait_rendered(60)
        assert player.has_phrase(text)
        # the other phrases are rendered before the first is spoken: it speaks for about a
        # second, and rendering them after it (slower on a loaded machine) could outlast it
        player.prepare(["Good rep.", "Slow down on the way down."])
        assert player.wait_rendered(60)
        assert player.play(c) == "speech"
        # one phrase at a time: lower priority is dropped, higher interrupts
        low = cue(kind="good", sound_id="say", text="Good rep.", priority=1)
        high = cue(kind="too_fast", sound_id="say", text="Slow down on the way down.", priority=5)
        assert player._speech_ch.get_busy()
        assert player.play(low) is None
        assert player.play(high) == "speech"
        stream_until(disk_mixer, streamed(disk_mixer) + int(0.4 * RATE))
    pygame.mixer.quit()
    x = captured(disk_mixer)
    assert np.max(np.abs(x)) > 0.1  # the speech really reached the device


def test_fallback_tone_where_espeak_is_missing(disk_mixer, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with caplog.at_level(logging.WARNING, logger="display.sound"), \
            CuePlayer(audio_cfg(), cache_dir=tmp_path / "cache") as player:
        player.prepare(["Hold it.", "Good rep."])
        assert player.wait_rendered(60)
        assert not player.has_phrase("Hold it.")
        assert not player.speech
        assert player.play(cue(kind="hold", sound_id="say", text="Hold it.")) == "tone:hold"
        assert player.play(cue(kind="short_hold", sound_id="say", text="Hold longer.")) \
            == "tone:warning"
    assert caplog.text.count("espeak-ng is not installed") == 1
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").iterdir())


def test_speech_off_uses_tones(disk_mixer, tmp_path):
    with CuePlayer(audio_cfg(speech=False), cache_dir=tmp_path / "cache") as player:
        player.prepare(["Hold it."])
        assert player.play(cue(kind="good", sound_id="say", text="Good rep.")) == "tone:good"
    assert not (tmp_path / "cache").exists()


# ------------------------------------------------------------------------- quiet hours

@pytest.mark.parametrize("hm, quiet", [
    ((20, 59), False), ((21, 0), True), ((23, 59), True), ((0, 0), True), ((5, 59), True),
    ((6, 0), False), ((12, 0), False),
])
def test_quiet_hours_across_midnight(hm, quiet):
    assert in_quiet_hours(dt.time(*hm), ((21, 0), (6, 0))) is quiet


@pytest.mark.parametrize("hm, quiet", [((12, 59), False), ((13, 0), True), ((13, 59), True),
                                       ((14, 0), False)])
def test_quiet_hours_within_a_day(hm, quiet):
    assert in_quiet_hours(dt.time(*hm), ((13, 0), (14, 0))) is quiet


def test_quiet_hours_lower_the_volume(disk_mixer):
    clock = {"now": dt.datetime(2025, 3, 1, 22, 30)}
    cfg = audio_cfg(volume=0.9, quiet_volume=0.2, quiet_hours=((21, 0), (6, 0)))
    with CuePlayer(cfg, cache_dir=disk_mixer.parent, now=lambda: clock["now"]) as player:
        assert player.volume() == pytest.approx(0.2)
        clock["now"] = dt.datetime(2025, 3, 2, 7, 0)
        assert player.volume() == pytest.approx(0.9)
        player.muted = True
        assert player.volume() == 0.0


def test_constructor_validates():
    with pytest.raises(TypeError, match="AudioConfig"):
        CuePlayer({"volume": 1})


def test_default_cache_dir_is_in_the_state_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("GYM_STATION_STATE", str(tmp_path))
    assert sound.default_cache_dir() == tmp_path / "speech-cache"
    monkeypatch.delenv("GYM_STATION_STATE")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert sound.default_cache_dir() == tmp_path / "xdg" / "gym-station" / "speech-cache"


"""Cue sounds: short synthesised tones and spoken phrases, played with low latency.

Gyms are loud and every cue is also on screen, so sound is a help, never a dependency: an audio
device that cannot be opened turns sound off (logged once) and the kiosk carries on.

* Tones (:data:`TONES`) are synthesised with numpy in the mixer's own format: ``rep``, ``hold``,
  ``good``, ``warning`` and ``set_done`` differ in pitch and pattern, and every note has a short
  raised-cosine attack and release so it starts and stops without a click.
* Spoken phrases are rendered ONCE with espeak-ng into a cache directory (one WAV per voice and
  text, named by a hash of both), in a background thread so the main loop never waits for it.
  Until a phrase is rendered, or where espeak-ng is missing or fails, the cue's tone plays
  instead (:data:`KIND_TONE`).
* One spoken cue at a time, on a channel of its own: a newer cue of the same or higher priority
  interrupts the one speaking, a lower one is dropped (its banner still shows). Tones have their
  own channel, so a rep beep never cuts a phrase short.
* Volume, mute and quiet hours come from :class:`~station.config.AudioConfig`; quiet hours are
  about the wall clock, read through an injectable ``now`` callable. The staff can change the
  volume and mute on the touchscreen: :meth:`CuePlayer.set_volume` (quiet hours still cap it).

Which sound a :class:`~station.view.Cue` gets: ``cue.sound`` naming a tone plays that tone; any
other non-empty ``cue.sound`` (e.g. ``"say"`` or the cue kind) speaks ``cue.text`` when speech is
on, else plays the kind's fallback tone; ``None`` is silent.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import logging
import os
import queue
import shutil
import subprocess
import threading
import time
import wave
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pygame

from station.config import AudioConfig
from station.view import Cue

log = logging.getLogger(__name__)

#: The mixer's requested rate; tones are synthesised at whatever rate the device really opened.
SAMPLE_RATE = 44100
ATTACK_S = 0.005
RELEASE_S = 0.025
ESPEAK_TIMEOUT_S = 10.0
#: Mixer channels reserved for cues: tones on 0, speech on 1.
TONE_CHANNEL, SPEECH_CHANNEL = 0, 1


class Note(NamedTuple):
    """One note of a tone: pitch, length, silence after it, and the relative strength of its
    harmonics (1.0 alone is a pure sine; odd harmonics make the warning buzz through noise)."""

    hz: float
    seconds: float
    gap_s: float = 0.0
    harmonics: tuple[float, ...] = (1.0,)


#: The cue tones, distinct in pitch and pattern so they can be told apart without looking.
TONES: dict[str, tuple[Note, ...]] = {
    # a single short high blip per rep
    "rep": (Note(880.0, 0.09),),
    # rising fifth: "you are at the top, hold"
    "hold": (Note(660.0, 0.12, 0.04), Note(990.0, 0.20)),
    # major arpeggio: a good rep
    "good": (Note(523.25, 0.08, 0.01), Note(659.25, 0.08, 0.01), Note(783.99, 0.16)),
    # low double buzz with odd harmonics: something to fix
    "warning": (Note(311.0, 0.15, 0.07, (1.0, 0.0, 0.35, 0.0, 0.15)),
                Note(311.0, 0.15, 0.0, (1.0, 0.0, 0.35, 0.0, 0.15))),
    # four rising notes: set done
    "set_done": (Note(523.25, 0.10, 0.03), Note(659.25, 0.10, 0.03), Note(783.99, 0.10, 0.03),
                 Note(1046.5, 0.30)),
}

#: The tone a cue kind falls back to when its phrase cannot be spoken.
KIND_TONE: dict[str, str] = {
    "ready": "rep", "drive": "rep", "lower": "rep", "rep_count": "rep", "step_on": "rep",
    "step_off": "rep", "hold": "hold", "good": "good", "set_done": "set_done",
    "switch_side": "set_done", "rest": "set_done", "toe_drive": "warning",
    "heel_drive": "warning", "short_hold": "warning", "too_fast": "warning",
    "slow_down": "warning", "drive_heel": "warning",
}
DEFAULT_TONE = "rep"


# ------------------------------------------------------------------------------ synthesis

def tone_wave(name: str, rate: int = SAMPLE_RATE, peak: float = 0.6) -> np.ndarray:
    """The tone ``name`` as float32 samples in -peak..peak at ``rate`` Hz (mono)."""
    try:
        notes = TONES[name]
    except KeyError:
        raise ValueError(f"unknown tone {name!r}; known: {', '.join(TONES)}") from None
    parts = []
    for note in notes:
        n = int(round(note.seconds * rate))
        t = np.arange(n) / rate
        w = np.zeros(n)
        for k, strength in enumerate(note.harmonics, start=1):
            if strength:
                w += strength * np.sin(2 * np.pi * note.hz * k * t)
        top = np.max(np.abs(w)) if n else 0.0
        w *= _envelope(n, rate) / (top or 1.0)
        parts.append(w)
        parts.append(np.zeros(int(round(note.gap_s * rate))))
    return (np.concatenate(parts) * peak).astype(np.float32)


def _envelope(n: int, rate: int) -> np.ndarray:
    """Raised-cosine attack and release around a flat middle: no click at either end."""
    env = np.ones(n)
    a = min(int(ATTACK_S * rate), n // 2)
    r = min(int(RELEASE_S * rate), n - a)
    if a:
        env[:a] = 0.5 - 0.5 * np.cos(np.pi * np.arange(a) / a)
    if r:
        env[n - r:] = 0.5 + 0.5 * np.cos(np.pi * (np.arange(r) + 1) / r)
    return env


def to_mixer_bytes(samples: np.ndarray, mixer: tuple[int, int, int]) -> bytes:
    """Float mono samples (-1..1) as raw bytes in the mixer's (rate, size, channels) format."""
    _, size, channels = mixer
    x = np.clip(samples, -1.0, 1.0)
    if size == -16:
        data = (x * 32767).astype(np.int16)
    elif size == 16:
        data = (x * 32767 + 32768).astype(np.uint16)
    elif size == -8:
        data = (x * 127).astype(np.int8)
    elif size == 8:
        data = (x * 127 + 128).astype(np.uint8)
    elif size == 32:
        data = x.astype(np.float32)
    else:
        raise ValueError(f"mixer sample size {size} is not supported")
    if channels > 1:
        data = np.repeat(data[:, None], channels, axis=1)
    return data.tobytes()


def read_wav(path: Path, rate: int) -> np.ndarray:
    """A 16-bit PCM WAV (what espeak-ng writes) as float mono samples resampled to ``rate``."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: {8 * w.getsampwidth()}-bit audio; expected 16-bit PCM")
        frames = w.readframes(w.getnframes())
        x = np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0
        if w.getnchannels() > 1:
            x = x.reshape(-1, w.getnchannels()).mean(axis=1)
        src_rate = w.getframerate()
    if src_rate != rate and len(x):
        n = int(round(len(x) * rate / src_rate))
        x = np.interp(np.arange(n) * (src_rate / rate), np.arange(len(x)), x).astype(np.float32)
    return x


# ------------------------------------------------------------------------------ spoken phrases

def phrase_path(cache_dir: Path, voice: str, text: str) -> Path:
    """Where the rendering of ``text`` in ``voice`` is cached (a hash of both)."""
    digest = hashlib.sha256(f"{voice}\0{text}".encode()).hexdigest()[:20]
    return Path(cache_dir) / f"{digest}.wav"


def render_phrase(text: str, voice: str, cache_dir: Path, espeak: str = "espeak-ng") -> Path:
    """Render ``text`` with espeak-ng into the cache (once) and return the WAV's path.

    A cached rendering is returned without running espeak-ng. Raises ``FileNotFoundError`` when
    espeak-ng is not installed and ``RuntimeError`` when it fails (message says what to do).
    """
    path = phrase_path(cache_dir, voice, text)
    if path.exists():
        return path
    exe = shutil.which(espeak)
    if exe is None:
        raise FileNotFoundError(f"{espeak} is not installed (apt-get install espeak-ng); "
                                "spoken cues fall back to tones")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp.wav")
    try:
        # The text goes on stdin so a phrase starting with "-" is never read as an option.
        done = subprocess.run([exe, "-v", voice, "--stdin", "-w", str(tmp)], input=text.encode(),
                              capture_output=True, timeout=ESPEAK_TIMEOUT_S, check=False)
        if done.returncode != 0 or not tmp.exists() or tmp.stat().st_size <= 44:
            reason = done.stderr.decode(errors="replace").strip() or f"exit {done.returncode}"
            raise RuntimeError(f"espeak-ng could not speak {text!r} with voice {voice!r} "
                               f"({reason}); check audio.voice (espeak-ng --voices lists them)")
        os.replace(tmp, path)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"espeak-ng took over {ESPEAK_TIMEOUT_S:g} s for {text!r}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return path


def default_cache_dir() -> Path:
    """The speech cache in the station's state directory ($GYM_STATION_STATE or the XDG one)."""
    state = os.environ.get("GYM_STATION_STATE")
    if not state:
        base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        state = str(Path(base) / "gym-station")
    return Path(state) / "speech-cache"


# ------------------------------------------------------------------------------ quiet hours

def in_quiet_hours(now: _dt.datetime | _dt.time,
                   span: tuple[tuple[int, int], tuple[int, int]] | None) -> bool:
    """Whether local time ``now`` falls in ``span`` ((h, m) start, (h, m) end; start included,
    end excluded). A span whose end is earlier than its start wraps past midnight."""
    if span is None:
        return False
    minute = now.hour * 60 + now.minute
    start = span[0][0] * 60 + span[0][1]
    end = span[1][0] * 60 + span[1][1]
    if start <= end:
        return start <= minute < end
    return minute >= start or minute < end


# ------------------------------------------------------------------------------ the player

def pre_init(cfg: AudioConfig) -> None:
    """Ask for a low-latency mixer; call before ``pygame.init()`` (which opens the device)."""
    pygame.mixer.pre_init(SAMPLE_RATE, -16, 1, cfg.buffer)


class CuePlayer:
    """Plays the sound of each cue: tones at once, spoken phrases from the espeak-ng cache.

    ``now`` returns the local wall-clock time (for quiet hours only). ``espeak`` is the
    espeak-ng command. ``cache_dir`` holds the rendered phrases (default: the state directory's
    ``speech-cache``). Opening the mixer here if ``pygame.init()`` did not; a device that cannot
    be opened leaves :attr:`enabled` false. Close it (or use it as a context manager) to stop the
    rendering thread.
    """

    def __init__(self, cfg: AudioConfig, *, cache_dir: str | os.PathLike | None = None,
                 now: Callable[[], _dt.datetime] = _dt.datetime.now,
                 espeak: str = "espeak-ng"):
        if not isinstance(cfg, AudioConfig):
            raise TypeError(f"CuePlayer needs an AudioConfig, not {type(cfg).__name__}")
        self.cfg = cfg
        self.now = now
        self.espeak = espeak
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.muted = cfg.mute
        self._volume = cfg.volume    #: the chosen loudness 0..1 (config, then the staff's)
        self.mixer: tuple[int, int, int] | None = None
        self._tones: dict[str, pygame.mixer.Sound] = {}
        self._phrases: dict[str, pygame.mixer.Sound] = {}
        self._failed: set[str] = set()
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._jobs: queue.Queue[str | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._speaking_priority = -1
        self._warned_no_espeak = False
        self._closed = False
        self.played: deque[tuple[str, str]] = deque(maxlen=1000)  #: latest (cue kind, what played)
        self._open()

    # -------------------------------------------------------------------- setup
    def _open(self) -> None:
        try:
            if not pygame.mixer.get_init():
                pygame.mixer.init(SAMPLE_RATE, -16, 1, self.cfg.buffer)
            self.mixer = pygame.mixer.get_init()
            pygame.mixer.set_reserved(2)
            self._tone_ch = pygame.mixer.Channel(TONE_CHANNEL)
            self._speech_ch = pygame.mixer.Channel(SPEECH_CHANNEL)
            for name in TONES:
                self._tones[name] = self._make_sound(tone_wave(name, self.mixer[0]))
        except (pygame.error, ValueError) as e:
            log.warning("sound is off: the audio device could not be opened (%s); every cue "
                        "still shows on screen", e)
            self.mixer = None
            self._tones.clear()

    def _make_sound(self, samples: np.ndarray) -> pygame.mixer.Sound:
        return pygame.mixer.Sound(buffer=to_mixer_bytes(samples, self.mixer))

    @property
    def enabled(self) -> bool:
        """True when the audio device is open (sound may still be muted)."""
        return self.mixer is not None and not self._closed

    @property
    def speech(self) -> bool:
        """True while spoken phrases can be used (speech on and espeak-ng not found missing)."""
        return self.cfg.speech and not self._warned_no_espeak

    def volume(self) -> float:
        """The loudness cues play at now: 0 when muted, the quiet volume in quiet hours."""
        if self.muted:
            return 0.0
        if in_quiet_hours(self.now(), self.cfg.quiet_hours):
            return min(self._volume, self.cfg.quiet_volume)
        return self._volume

    def set_volume(self, volume: float, muted: bool) -> None:
        """The staff chose a loudness (0..1, clamped) and mute; sounds already playing follow
        at once (mute silences them)."""
        volume = float(volume)
        if volume != volume:  # NaN: keep what we have rather than guess
            raise ValueError("volume must be a number from 0 to 1, not NaN")
        self._volume = min(1.0, max(0.0, volume))
        self.muted = bool(muted)
        if self.enabled:
            vol = self.volume()
            self._tone_ch.set_volume(vol)
            self._speech_ch.set_volume(vol)

    # -------------------------------------------------------------------- phrases
    def prepare(self, phrases: Iterable[str]) -> None:
        """Queue phrases for rendering in the background (call at start with the cue texts)."""
        if not (self.enabled and self.speech):
            return
        for text in phrases:
            self._request(text)

    def _request(self, text: str) -> None:
        with self._lock:
            if text in self._phrases or text in self._failed or text in self._pending:
                return
            self._pending.add(text)
        if self._worker is None:
            self._worker = threading.Thread(target=self._render_loop, name="espeak-render",
                                            daemon=True)
            self._worker.start()
        self._jobs.put(text)

    def _render_loop(self) -> None:
        while (text := self._jobs.get()) is not None:
            sound = None
            try:
                path = render_phrase(text, self.cfg.voice, self.cache_dir, self.espeak)
                sound = self._make_sound(read_wav(path, self.mixer[0]))
            except FileNotFoundError as e:
                if not self._warned_no_espeak:
                    log.warning("%s", e)
                    self._warned_no_espeak = True
            except (RuntimeError, OSError, ValueError, EOFError, wave.Error, pygame.error) as e:
                log.warning("spoken cue %r falls back to its tone: %s", text, e)
            with self._lock:
                self._pending.discard(text)
                if sound is not None:
                    self._phrases[text] = sound
                else:
                    self._failed.add(text)

    def wait_rendered(self, timeout: float = 10.0) -> bool:
        """Block until every queued phrase is rendered or failed (for start-up and tests; never
        called from the main loop)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if not self._pending:
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    def has_phrase(self, text: str) -> bool:
        with self._lock:
            return text in self._phrases

    # -------------------------------------------------------------------- playing
    def play_tone(self, name: str) -> bool:
        """Play tone ``name`` on the tone channel now; False when silent (off, muted, quiet 0)."""
        if name not in TONES:
            raise ValueError(f"unknown tone {name!r}; known: {', '.join(TONES)}")
        vol = self.volume() if self.enabled else 0.0
        if vol <= 0:
            return False
        self._tone_ch.set_volume(vol)
        self._tone_ch.play(self._tones[name])
        return True

    def play(self, cue: Cue) -> str | None:
        """Start the sound of ``cue`` (call right after the flip that shows it).

        Returns what started: ``"tone:<name>"``, ``"speech"``, or ``None`` (silent: no sound id,
        sound off or muted, or a lower-priority phrase while another is speaking).
        """
        if cue.sound is None or not self.enabled:
            return None
        vol = self.volume()
        if vol <= 0:
            return None
        if cue.sound in TONES:
            what = f"tone:{cue.sound}" if self.play_tone(cue.sound) else None
        else:
            what = self._speak(cue, vol)
        if what:
            self.played.append((cue.kind, what))
        return what

    def _speak(self, cue: Cue, vol: float) -> str | None:
        fallback = KIND_TONE.get(cue.kind, DEFAULT_TONE)
        sound = None
        if self.speech:
            with self._lock:
                sound = self._phrases.get(cue.text)
            if sound is None:
                self._request(cue.text)  # rendered for next time; the tone plays now
        if sound is None:
            return f"tone:{fallback}" if self.play_tone(fallback) else None
        if self._speech_ch.get_busy() and cue.priority < self._speaking_priority:
            log.debug("cue %r not spoken: a higher-priority phrase is speaking", cue.kind)
            return None
        self._speech_ch.set_volume(vol)
        self._speech_ch.play(sound)
        self._speaking_priority = cue.priority
        return "speech"

    def stop(self) -> None:
        """Silence both cue channels."""
        if self.enabled:
            self._tone_ch.stop()
            self._speech_ch.stop()

    def close(self) -> None:
        """Stop sounds and the rendering thread; safe to call twice."""
        if self._closed:
            return
        try:
            self.stop()
        except pygame.error:
            pass
        self._closed = True
        if self._worker is not None:
            self._jobs.put(None)
            self._worker.join(timeout=ESPEAK_TIMEOUT_S + 1)
            self._worker = None

    def __enter__(self) -> CuePlayer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

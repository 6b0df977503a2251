"""``gym-station record``: capture a plate to a recording file.

Stops after ``seconds`` of the plate's own clock, at the end of a replayed recording, on Ctrl-C,
or on a hardware fault; whatever was captured before stays in the file (each row is flushed as it
is written), and the result says why it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from drivers.clock import VirtualClock
from drivers.errors import EndOfRecording, HardwareError, RecordingError
from drivers.sample import SampleSource


@dataclass
class RecordResult:
    path: Path
    rows: int
    seconds: float
    stopped: str            #: "time", "end of recording", "interrupted", "fault"
    error: str | None = None

    def summary(self) -> str:
        return (f"Recorded {self.rows} samples ({self.seconds:.1f} s) to {self.path}; "
                f"stopped: {self.stopped}")


def record(plate: SampleSource, writer_cls, path: Path, meta: dict, *, seconds: float,
           timeout: float = 0.5) -> RecordResult:
    """Read ``plate`` into a recording at ``path`` for ``seconds`` of plate time."""
    first = plate.read(timeout=timeout)   # a plate that cannot give one sample writes no file
    # a virtual clock starts at zero already: keep its times so a replay gives identical samples
    t0 = 0.0 if isinstance(plate.clock, VirtualClock) else first.t
    stopped, error = "time", None
    last_t = first.t
    with writer_cls(path, meta, t0=t0) as writer:
        try:
            writer.write(first)
            while last_t - first.t < seconds:
                sample = plate.read(timeout=timeout)
                writer.write(sample)
                last_t = sample.t
        except EndOfRecording:
            stopped = "end of recording"
        except KeyboardInterrupt:
            stopped = "interrupted"
        except HardwareError as e:
            stopped, error = "fault", f"{e}; the samples before the fault are saved"
        except OSError as e:
            stopped, error = "fault", (f"cannot write {path}: {e.strerror or e}; the samples "
                                       "before this are saved")
        except RecordingError as e:
            stopped, error = "fault", str(e)
        rows = writer.rows
    return RecordResult(Path(path), rows, last_t - first.t, stopped, error)

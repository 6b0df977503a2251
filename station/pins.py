"""Coach and staff PINs: stored only as salted scrypt hashes, checked in constant time, locked
after five wrong tries.

The PINs live in ``pins.json`` in the state directory (never in config or logs), written
atomically with mode 0600. Each entry keeps its own salt and scrypt parameters, so a later
change of parameters still verifies PINs set before it. A 4..8 digit PIN has at most 10^8
values: the hash keeps it out of backups and screenshots in the clear, the file mode and the
lockout are what stop guessing.

The file is looked at again whenever a PIN is used (one ``stat``, see
:class:`station.statefile.StateFile`): a PIN set at the console while the kiosk runs opens the
screens at once and the old one no longer does, and a damaged file set right again opens them
without a restart. A new PIN is stored over the file as it is now, never over an older copy.

Lockout: five wrong tries in a row lock that role for a minute, on the injected monotonic clock
(tests step it; nothing reads the wall clock). Every wrong try is reported to ``on_failure(kind,
detail)``, which takes the usage log's ``event`` directly: the detail names the role and the
count, never the digits typed. The lockout is held in memory: restarting the kiosk takes longer
than the lockout itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import PinError
from .statefile import StateFile

ROLES = ("coach", "staff")
PIN_MIN_DIGITS, PIN_MAX_DIGITS = 4, 8
MAX_TRIES = 5  #: wrong tries in a row before the role locks
LOCKOUT_S = 60.0  #: how long a locked role stays locked

#: scrypt cost: N = 2^15, r = 8 needs 128 * N * r = 32 MiB and about 0.07 s on a desktop core,
#: a few tenths of a second on a Raspberry Pi 4: unnoticed at a keypad, slow for a guesser.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
SCRYPT_DKLEN = 32
#: The most costly parameters a stored PIN may ask for (n * r * p): 8 times today's, so a
#: check takes at most 256 MiB (128 * n * r bytes) and a few seconds on a Raspberry Pi.
SCRYPT_COST_MAX = 8 * SCRYPT_N * SCRYPT_R * SCRYPT_P
SALT_BYTES = 16
FORMAT_VERSION = 1


def pins_file(state: Path) -> Path:
    return Path(state) / "pins.json"



def check_role(role: str) -> str:
    if role not in ROLES:
        raise PinError(f"unknown role {role!r}: it must be {' or '.join(ROLES)}")
    return role


def validate_pin(pin: str) -> str:
    """The PIN if it is acceptable, else a :class:`PinError` saying what to change."""
    if not isinstance(pin, str) or not pin:
        raise PinError("the PIN is empty: type 4 to 8 digits")
    if not (pin.isascii() and pin.isdigit()):
        raise PinError("a PIN is digits only (0-9): no letters, spaces or signs")
    if not PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS:
        raise PinError(f"the PIN has {len(pin)} digits: use {PIN_MIN_DIGITS} to "
                       f"{PIN_MAX_DIGITS}")
    if len(set(pin)) == 1:
        raise PinError("a PIN of one digit repeated is the first thing anyone tries: mix digits")
    steps = {(int(b) - int(a)) % 10 for a, b in zip(pin, pin[1:], strict=False)}
    if steps in ({1}, {9}):
        raise PinError("a straight run of digits (like 1234 or 4321) is too easy to guess: "
                       "choose another PIN")
    return pin


@dataclass(frozen=True)
class _Hash:
    """One role's stored PIN: scrypt parameters, salt and derived key (hex in the file)."""

    n: int
    r: int
    p: int
    salt: bytes
    key: bytes

    @classmethod
    def new(cls, pin: str) -> _Hash:
        salt = os.urandom(SALT_BYTES)
        return cls(SCRYPT_N, SCRYPT_R, SCRYPT_P, salt, _scrypt(pin, salt, SCRYPT_N, SCRYPT_R,
                                                                SCRYPT_P, SCRYPT_DKLEN))

    def matches(self, pin: str) -> bool:
        typed = _scrypt(pin, self.salt, self.n, self.r, self.p, len(self.key))
        return hmac.compare_digest(typed, self.key)

    def to_json(self) -> dict:
        return {"kdf": "scrypt", "n": self.n, "r": self.r, "p": self.p,
                "salt": self.salt.hex(), "hash": self.key.hex()}

    @classmethod
    def from_json(cls, raw) -> _Hash:
        if not isinstance(raw, dict) or raw.get("kdf") != "scrypt":
            raise ValueError("not a scrypt entry")
        n, r, p = (int(raw[k]) for k in ("n", "r", "p"))
        if n < 2 or n & (n - 1) or not (1 <= r <= 64 and 1 <= p <= 16):
            raise ValueError("bad scrypt parameters")
        if n * r * p > SCRYPT_COST_MAX:  # else each check could take minutes and gigabytes
            raise ValueError(f"scrypt parameters n*r*p = {n * r * p} above {SCRYPT_COST_MAX}")
        salt, key = bytes.fromhex(raw["salt"]), bytes.fromhex(raw["hash"])
        if len(salt) < 8 or len(key) < 16:
            raise ValueError("salt or hash too short")
        return cls(n, r, p, salt, key)


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    return hashlib.scrypt(pin.encode("ascii", "replace"), salt=salt, n=n, r=r, p=p,
                          maxmem=256 * n * r + 2**20, dklen=dklen)


class PinStore:
    """The station's coach and staff PINs, and each role's wrong-try count and lockout.

    ``clock`` is a monotonic clock in seconds (injected by tests); ``on_failure(kind, detail)``
    receives ``("pin_failure", {"role": ..., "tries": ..., "locked_for_s": ...})`` per wrong try.
    """

    def __init__(self, state_dir: str | os.PathLike, clock: Callable[[], float] = time.monotonic,
                 on_failure: Callable[[str, dict], object] | None = None, *,
                 damaged_ok: bool = False):
        """``damaged_ok``: a damaged pins.json does not raise; :attr:`damaged` says why, no
        role has a PIN, and no PIN is accepted until one is set again (the kiosk keeps running
        for the athletes; ``gym-station pin set`` writes a fresh file)."""
        self.path = pins_file(Path(state_dir))
        self.clock = clock
        self.on_failure = on_failure
        self._file = StateFile(self.path)
        self._damaged_ok = damaged_ok
        self._damaged: str | None = None
        self._hashes: dict[str, _Hash] = {}
        self._tries: dict[str, int] = dict.fromkeys(ROLES, 0)
        self._locked_until: dict[str, float] = {}
        self._load()

    @property
    def damaged(self) -> str | None:
        """Why pins.json cannot be used (None: it can), as the file is now."""
        self._refresh()
        return self._damaged

    def _load(self) -> None:
        """Read the file; a role whose PIN changed starts again with no wrong tries."""
        try:
            hashes, damaged = self._read(), None
        except PinError as e:
            if not self._damaged_ok:
                raise
            hashes, damaged = {}, str(e)
        for role in ROLES:
            if hashes.get(role) != self._hashes.get(role):
                self._tries[role] = 0
                self._locked_until.pop(role, None)
        self._hashes, self._damaged = hashes, damaged

    def _refresh(self) -> None:
        """Read the file again if someone (`gym-station pin set`) replaced it since."""
        try:
            changed = self._file.changed(force=True)
        except OSError:
            return  # the folder cannot be looked at just now: keep what was read
        if changed:
            self._load()

    def _read(self) -> dict[str, _Hash]:
        try:
            raw = self._file.read_json()
        except (OSError, ValueError) as e:
            raise PinError(f"{self.path} cannot be read ({e}): set the PINs again with "
                           "`gym-station pin set coach` and `gym-station pin set staff`") from None
        if raw is None:
            return {}
        try:
            if raw.get("version") != FORMAT_VERSION:
                raise ValueError(f"format version {raw.get('version')!r}, expected "
                                 f"{FORMAT_VERSION}")
            return {role: _Hash.from_json(entry) for role, entry in raw["pins"].items()
                    if check_role(role)}
        except (AttributeError, KeyError, TypeError, ValueError, OverflowError) as e:
            raise PinError(f"{self.path} is damaged ({e}): set the PINs again with "
                           "`gym-station pin set coach` and `gym-station pin set staff`") from None

    def _write(self, hashes: dict[str, _Hash]) -> None:
        """Store ``hashes``, unless the file changed since it was read (then nothing is written:
        the PIN would be set over a file nobody here has seen)."""
        if self._file.changed(force=True):
            raise PinError(f"{self.path} was changed meanwhile (by `gym-station pin set`?): "
                           "nothing stored; set the PIN again")
        doc = {"version": FORMAT_VERSION,
               "pins": {role: h.to_json() for role, h in sorted(hashes.items())}}
        self._file.write_text(json.dumps(doc, indent=2) + "\n", 0o600)
        self._hashes = hashes

    def is_set(self, role: str) -> bool:
        """Whether ``role`` has a PIN (a station without one asks for it on first start)."""
        check_role(role)
        self._refresh()
        return role in self._hashes

    def set_pin(self, role: str, pin: str) -> None:
        """Store a new PIN for ``role`` (validated; the staff and coach PINs must differ, or the
        coach PIN would open staff mode). Clears that role's wrong tries and lockout."""
        check_role(role)
        validate_pin(pin)
        self._refresh()
        for other, stored in self._hashes.items():
            if other != role and stored.matches(pin):
                raise PinError(f"the {role} PIN must differ from the {other} PIN")
        self._write({**self._hashes, role: _Hash.new(pin)})
        self._damaged = None
        self._tries[role] = 0
        self._locked_until.pop(role, None)

    def locked_for(self, role: str) -> float:
        """Seconds until ``role`` may try again (0.0 when it is not locked)."""
        until = self._locked_until.get(check_role(role))
        if until is None:
            return 0.0
        left = until - self.clock()
        if left <= 0:
            del self._locked_until[role]
            self._tries[role] = 0
            return 0.0
        return left

    def tries_left(self, role: str) -> int:
        """Wrong tries ``role`` has before it locks (0 while it is locked)."""
        if self.locked_for(role) > 0:
            return 0
        return max(0, MAX_TRIES - self._tries[role])

    def check(self, role: str, pin: str) -> bool:
        """Whether ``pin`` opens ``role``. False, without hashing, while the role is locked or
        has no PIN; the fifth wrong try in a row locks it for :data:`LOCKOUT_S`. The PIN
        checked is the one stored now (a PIN changed at the console counts at once)."""
        check_role(role)
        self._refresh()
        if self.locked_for(role) > 0:
            self._failed(role)
            return False
        stored = self._hashes.get(role)
        ok = stored is not None and isinstance(pin, str) and stored.matches(pin)
        if ok:
            self._tries[role] = 0
            return True
        self._tries[role] += 1
        if self._tries[role] >= MAX_TRIES:
            self._locked_until[role] = self.clock() + LOCKOUT_S
        self._failed(role)
        return False

    def _failed(self, role: str) -> None:
        if self.on_failure is not None:
            self.on_failure("pin_failure", {"role": role, "tries": self._tries[role],
                                            "locked_for_s": round(self.locked_for(role), 1)})

    def __repr__(self) -> str:  # never the hashes
        return f"PinStore({str(self.path.parent)!r}, set={sorted(self._hashes)})"


__all__ = ["LOCKOUT_S", "MAX_TRIES", "PinStore", "ROLES", "check_role", "pins_file",
           "validate_pin"]

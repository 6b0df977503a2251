"""What is on a surface: pixel helpers the display tests share (imported via conftest's path)."""

from __future__ import annotations

import numpy as np
import pygame
from pygame import Rect


def pixels(surface: pygame.Surface) -> np.ndarray:
    """(w, h, 3) copy of the surface's colours."""
    return pygame.surfarray.array3d(surface)


def mask(surface: pygame.Surface, colour, rect: Rect | None = None) -> np.ndarray:
    """Boolean (w, h) array of the pixels exactly ``colour`` (only inside ``rect`` if given)."""
    m = np.all(pixels(surface) == np.array(colour), axis=2)
    if rect is not None:
        keep = np.zeros_like(m)
        keep[rect.left:rect.right, rect.top:rect.bottom] = True
        m &= keep
    return m


def shows(surface, theme, text, box, max_size, colour, bg, align="center") -> bool:
    """True when ``surface`` shows ``text`` exactly as the theme renders it into ``box`` over
    ``bg``."""
    rendered = theme.line(text, box.width, box.height, max_size, colour)
    r = rendered.get_rect()
    if align == "left":
        r.midleft = box.midleft
    elif align == "right":
        r.midright = box.midright
    else:
        r.center = box.center
    expect = pygame.Surface(r.size)
    expect.fill(bg)
    expect.blit(rendered, (0, 0))
    return bool(np.array_equal(pixels(expect), pixels(surface.subsurface(r))))

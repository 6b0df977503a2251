"""Everything that talks to the force plate's hardware, or pretends to.

HX711 readers, the force plate (zones, tare, calibration), simulated and recorded plates and the
station's gpiozero buttons/LED/buzzer. Knows nothing about reps, cues or screens, and never imports
``station``, ``display`` or pygame.
"""

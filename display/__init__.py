"""pygame-ce kiosk display: main loop, screens, widgets, sounds. No signal processing."""

"""The station: config, sampling, signal processing, reps, cues, sessions, usage log, the CLI. No pygame, no GPIO imports."""

"""Analyses: functions of (LinearProgram, options) -> result objects."""

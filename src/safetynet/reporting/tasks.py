"""Background tasks of the reporting app (none yet: the sweep sends the reminders)."""

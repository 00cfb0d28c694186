"""Storage: the schema, its migrations and every query, callable without python-telegram-bot."""

from storage.clock import Clock, ManualClock, SystemClock
from storage.db import Database, MigrationError

__all__ = ["Clock", "Database", "ManualClock", "MigrationError", "SystemClock"]

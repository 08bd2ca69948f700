"""Vocalis: a self-hostable voice-cloning studio and API."""

__version__ = "0.1.0"

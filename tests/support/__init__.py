"""Helpers shared by tests: reading streams back, waiting without sleeping blindly."""

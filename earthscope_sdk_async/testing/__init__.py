"""Test helpers for users and for our own tests: a fake EarthScope on 127.0.0.1."""

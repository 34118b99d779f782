"""pytest fixtures for testing code that uses earthscope-sdk-async."""

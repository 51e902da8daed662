"""Services: the operations that views and CLI commands share (no request objects here)."""

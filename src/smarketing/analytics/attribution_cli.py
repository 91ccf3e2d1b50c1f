"""Attribution commands; `register(app)` adds them to the smarketing CLI."""

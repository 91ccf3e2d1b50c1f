"""Commands of this app; `register(app)` adds them to the smarketing CLI."""

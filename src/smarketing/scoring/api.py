"""API router; see smarketing.api for mounting."""

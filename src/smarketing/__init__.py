"""smarketing: one revenue team for B2B marketing and sales."""

__version__ = "0.1.0"

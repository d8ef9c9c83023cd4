"""``polymaker doctor``: preflight checks with a remedy for each failure (docs/readiness.md)."""

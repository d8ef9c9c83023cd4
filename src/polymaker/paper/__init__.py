"""Paper trading: simulated orders on real market data, filled by queue position.

``fill_model`` is the pure fill model, ``gateway`` the worker-facing order gateway, ``ledger``
the paper account (docs/readiness.md).
"""

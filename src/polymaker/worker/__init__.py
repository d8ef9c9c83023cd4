"""One market's worker process: ``polymaker worker PARAMS.json`` (see docs/worker.md)."""

"""The supervisor ("autorun"): ledger, queue, process management, monitor, control socket, REPL.

One supervisor per data directory (``lock``); it is the single writer of the ledger
(``ledger``), drives topic states through one table (``states``) and answers the
``polymaker status/stop/...`` commands on a Unix socket (``control``, ``commands``).
"""

"""Carrying out an action over many targets: fast, rate-aware, write-ahead audited, resumable.

``ircli.executor.engine.execute`` is the entry point; ``ircli.executor.journal`` keeps the
write-ahead record in the audit store and rebuilds a run's state from it for ``resume``.
"""

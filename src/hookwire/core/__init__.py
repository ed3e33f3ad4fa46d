"""Pure building blocks: domain types, ids, signing, filters, errors, settings.

Nothing in here performs I/O; every other layer may import from it.
"""

"""Figures over many rows: counts, shares, percentiles, usage and cost, error groups, comparisons.

``stats`` and ``usage`` (priced by ``cost``) for ``sessionlog stats``;
``report`` (with ``errors``) for the report page; ``compare`` (its two
``sides``, its confidence ``intervals``) for ``sessionlog compare``.
"""

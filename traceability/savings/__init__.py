"""Processing batches and their environmental savings (SPEC §2.5).

``services.Savings`` multiplies the recovered mass of each fraction by the
emission factors of a factor set (``catalog``). Example::

    $ curl -H "Authorization: Bearer $TOKEN" "$SITE/api/v1/batches/$BATCH?factors=$FACTOR_SET"
"""

__all__ = [
    "models",
    "services",
]

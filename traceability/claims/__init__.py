"""Subsidy claims (拆解处理情况表, SPEC §2.6): rates, eligibility, claims, exports, review.

Above the reports and the verification (a claim counts only what the
verified event log says) and below the interfaces (api, web, cli).
``services`` creates and submits a claim, ``assess`` decides each device's
eligibility (``helper_process`` runs half of a large claim on the other
core), ``review`` records an auditor's decisions with a reason code of
``reasons`` (data/review_reasons.toml), ``screen`` is what the portal's claim
pages show, ``exports`` writes the XLSX, CSV and PDF, ``verify`` checks a
submitted claim against its anchored digest. Example::

    $ traceability claims create 2026Q3 --as MANAGER
    $ traceability claims export CLAIM -o claim.xlsx -o claim.pdf
"""

__all__ = [
    "assess",
    "exports",
    "helper_process",
    "models",
    "reasons",
    "review",
    "schemas",
    "screen",
    "services",
    "verify",
]

"""Subsidy claims (拆解处理情况表, SPEC §2.6): rates, eligibility, claims, exports, review.

Above the reports and the verification (a claim counts only what the
verified event log says) and below the interfaces (api, web, cli).
"""

"""The payout waterfall: yen from covered lines, limits, co-insurance, deductibles, aggregates, caps. May import: policy, contract."""

"""The rule engine: rulebook, compiler, the durable_rules adapter, facts, coverage, rulebook check, rule examples, why-not. May import: policy, contract."""

"""Decision documents rendered with Jinja2 (templates in reports/). May import: decide, engine, payout, policy, contract."""

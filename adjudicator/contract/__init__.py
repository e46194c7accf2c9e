"""What comes in and what goes out: the claim-file and decision models, reading a claim file. Imports nothing else of adjudicator."""

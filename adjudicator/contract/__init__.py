"""What comes in and what goes out: the claim-file and decision models, the input gate that reads a claim file, safe text and the wording of input errors. Imports nothing else of adjudicator."""

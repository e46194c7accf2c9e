"""The plan catalogue, premiums and the catalogue's checks of a claim, read from rules/programmes/. May import: contract."""

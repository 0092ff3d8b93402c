"""Request and response models of the REST API (camelCase on the wire, as in the seed README)."""

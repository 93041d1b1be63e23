"""The agency directory: which office is competent for which kind of matter, where."""

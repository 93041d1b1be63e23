"""E-mail notifications: an office learns that an item reached its inbox or a reply is overdue, by a
mail that names no person, only the office, a count and a link to the hub."""

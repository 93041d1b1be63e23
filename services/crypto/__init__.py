"""The hub's cryptographic building blocks, pure: office key rings and the office layer (JWE per
recipient office), person keys and the person layer (crypto-shredding), and the delivery signature.

Nothing here imports the rest of the hub except ``services.kernel``; no database, no framework.
"""

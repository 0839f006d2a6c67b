"""The OCOP registry: producers, raw-material areas, products and certifications.

Owns the models, the certification rules, validation (tax codes, GTINs), services, office edits and the CSV
import, forms, the demo data and the `products`/`producers`/`demo` commands. May import: audit and the shared
modules; never stamps, verification, printing or an audience package.
"""

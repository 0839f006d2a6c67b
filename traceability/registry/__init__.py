"""The OCOP registry: producers, raw-material areas, products and certifications."""

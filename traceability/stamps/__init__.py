"""Signed stamps: token codec, signing, keys and batches."""

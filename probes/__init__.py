"""Logit probes from the related work: what else do a classifier's logits (or activations) give away?

One file per probe: fingerprint (seed 000), features (seed 001), confidence (seed 002), novelty and
style_shift (seed 004). `evaluate.py probe <name>` runs them.
"""

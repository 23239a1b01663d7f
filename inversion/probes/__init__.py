"""Logit probes from the related work: what else do a classifier's logits (or activations) give away?

One file per probe, each computing numbers only (`inversion.commands` writes their tables and plots):

    fingerprint.py              which of N networks produced a logit vector? (Borji 2022)
    feature_reconstruction.py   a linear map from logits back to penultimate features
    confidence.py               top-1/top-2 ratio and margin: clean vs PGD-corrupted inputs
    novelty.py                  seen vs novel classes from each layer's activations (Powers and Keselman)
    style_shift.py              Gram-matrix style transfer toward another class (Powers and Keselman)
    training.py                 what they share: quick training, subsets, logits and features
"""

"""The command lines of the inverter: training (`train.py`) and evaluation (`evaluate.py`).

In a checkout they run as `python train.py` / `accelerate launch train.py` and `python evaluate.py`
(the scripts at the repository's root call these modules); an installed package has them as the
console commands `logit-inversion-train` and `logit-inversion-evaluate`.
"""

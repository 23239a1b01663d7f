"""Training the inverter: one file per idea.

hinge_loss.py          the GAN's only default loss
logit_consistency.py   an optional ablation loss through the frozen classifier, off by default
ema.py                 the exponential moving average of G used for every sample and evaluation
logit_statistics.py    the per-dimension logit statistics measured at the start of a run
speed_settings.py      channels_last, fused Adam and torch.compile as PyTorch/accelerate values
trainer.py             the loop under accelerate: D steps, G step, EMA, logs, grids, checkpoints
"""

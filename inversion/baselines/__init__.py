"""The baselines every inverter is held against, scored by the same fidelity table.

pixel_decoder.py   a decoder trained with a pixel loss only (Dosovitskiy and Brox 2016b)
optimization.py    gradient descent on the image to match the logits (Mahendran and Vedaldi 2015)
"""

"""The evaluation's numbers, apart from how they are shown (`inversion.presentation`).

    metrics.py               per-image MSE, PSNR, SSIM, feature distance, diversity, cosine
    identification.py        does a reconstruction pick out its own source among N candidates?
    perceptual.py            LPIPS, only with real backbone weights
    realism.py               FID and KID through torch-fidelity, with the evaluator as feature extractor
    fidelity.py              one pass over a test set -> the fidelity table's numbers, for any subset
    logit_edits.py           shift, scale, add_noise, interpolate, toward_swapped_top2, and edit paths
    invariance.py            image transforms: does the reconstruction follow T x or stay with x?
    adversarial.py           PGD on the inverted classifier: whose class does the reconstruction show?
    out_of_distribution.py   images from elsewhere, brought to the model's input, and their numbers

Nothing here writes Markdown, HTML or figures.
"""

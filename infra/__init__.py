"""Infrastructure below both `classifiers` and `inversion`: neither is imported from here.

- `errors`: the one exception type for mistakes a user can fix, and the command-line wrapper that
  prints it as one line with exit code 2;
- `config`: dataclass schemas loaded from YAML with dotted `key=value` overrides (OmegaConf);
- `datasets`, `batches`: the data sets as uint8 tensors, and resumable batch streams;
- `devices`: the default device and accelerate's mixed-precision setting;
- `checkpoints`: atomic training checkpoints for `--resume`, and the step / data-position state;
- `runs`: the run folder (resolved config, `stats.jsonl`, TensorBoard, progress bar) and the rules
  for starting or resuming a run;
- `progress`: progress bars.
"""

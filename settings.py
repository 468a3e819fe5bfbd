"""
Every setting of a run, declared once (model.setting): default, type, meaning, kind and allowed values.

The model's settings are ModelConfig's fields (model.py); Config adds the run's. configurator.py reads
config files and --key=value into a Config; `--help` lists the settings. A run is what its settings say:
all but the "where" kind (the "split" ones through their product, the global batch); a folder resumes only
with the same (max_iters may grow: a run is continued, never shortened). "label" ones group runs in reports.
"""

from dataclasses import dataclass, fields
from typing import Optional

from model import ModelConfig, setting


@dataclass(frozen=True)
class Config(ModelConfig):
    """A run's settings, the model's first. The defaults train a small GPT on tiny Shakespeare bytes."""
    # what the run is, as report.py groups and compares runs
    study: Optional[str] = setting(None, "regime, entropy, plateau or vit", "label")
    method: Optional[str] = setting(None, "the run's arm, e.g. dyt_alpha0.5; None = its norm's label (vanilla for the "
                                          "architecture's usual norm); a label of another norm is an error", "label")
    scale: Optional[str] = setting(None, "e.g. 64m, micro", "label")
    budget: Optional[str] = setting(None, "e.g. 1m, 8k; 118m_10k for the 10,000-step runs", "label")
    # I/O
    out_dir: Optional[str] = setting(None, "the run folder; None = out/<config path under config/><overrides>", "where")
    eval_interval: int = setting(250, "evaluate, log and checkpoint every this many steps (and at the end)", least=1)
    log_interval: int = setting(10, "print the training loss every this many steps", "where", least=1)
    init_from: str = setting("scratch", "scratch, or resume from out_dir/ckpt.pt", "where", choices=("scratch", "resume"))
    overwrite: bool = setting(False, "allow starting from scratch over a finished run in out_dir", "where")
    start_from: Optional[str] = setting(None, "start from a trained model instead of random weights, its norms "
                                              "converted to this run's (convert.py): a run folder or checkpoint of "
                                              "this repo ({seed} = the run's seed), or GPT-2's pytorch_model.bin")
    calibrate_alpha: bool = setting(False, "with start_from: each squashing norm's alpha_0 = 1/std of its site's input "
                                           "in the trained model, instead of its alpha_init")
    # data
    dataset: str = setting("shakespeare_byte", "a folder of data_dir made by prepare_data.py")
    data_dir: str = setting("data", "where prepare_data.py wrote the datasets", "where")
    train_tokens: Optional[int] = setting(None, "the training budget: the first train_tokens of train.bin; None = all")
    val_tokens: Optional[int] = setting(None, "the first val_tokens of val.bin; None = all (a prefix: the whole split "
                                              "is also scored, at the end and at the best checkpoint)")
    train_images: Optional[int] = setting(None, "an image dataset's training budget: its first train_images images")
    augment_pad: int = setting(0, "images: crop each training image from it padded by this many pixels")
    augment_flip: bool = setting(False, "images: flip each training image left-right with probability 1/2")
    batch_size: int = setting(32, "micro-batch, in sequences (images for an image dataset)", "split", least=1)
    gradient_accumulation_steps: int = setting(1, "micro-batches a step, over all processes", "split", least=1)
    # optimiser: AdamW, weight decay on matrices and embeddings only (tensors of 2 or more dimensions)
    learning_rate: float = setting(1e-3, "the peak, reached at the end of warmup")
    max_iters: int = setting(2000, "training steps; a finished run can be continued to more", least=0)
    weight_decay: float = setting(0.1, "AdamW's, on matrices and embeddings")
    slope_weight_decay: bool = setting(False, "decay the learnable leaky-ReLU slopes too (entropic overload's code)")
    weight_decay_all: bool = setting(False, "decay every parameter, gains and alphas too (the regime paper's ViT code)")
    freeze_alpha: bool = setting(False, "keep squashing norms' alpha at alpha_0 (the pure-bf16 experiment's control)")
    alpha_fp32: bool = setting(False, "pure bf16 only: keep every squashing norm's alpha in fp32, in an AdamW group of "
                                      "its own, so its updates are not rounded away while the rest stays bf16")
    alpha_lr_scale: float = setting(1.0, "alpha's learning rate as a multiple of learning_rate (an AdamW group of its own)")
    beta1: float = setting(0.9, "AdamW's first-moment decay")
    beta2: float = setting(0.95, "AdamW's second-moment decay")
    grad_clip: float = setting(1.0, "clip the global gradient norm at this value (0 = no clipping)")
    # schedule: linear warmup, then a cosine (or linear) decay to min_lr at lr_decay_iters, then min_lr
    warmup_iters: int = setting(200, "steps of linear warmup from 0", least=0)
    lr_decay: str = setting("cosine", "cosine (nanoGPT's) or linear (entropic overload's)", choices=("cosine", "linear"))
    lr_per_epoch: bool = setting(False, "step the schedule once an epoch of the budget (the regime paper's ViT code)")
    lr_decay_iters: int = setting(2000, "the step where the decay reaches min_lr")
    min_lr: float = setting(1e-4, "the learning rate after lr_decay_iters")
    # system
    device: Optional[str] = setting(None, "None = cuda if a GPU is there, else cpu", "where")
    dtype: Optional[str] = setting(None, "autocast's; None = bfloat16 on a GPU that has it, else float32 (float16 "
                                         "would need a loss scaler)", "where", choices=("float32", "bfloat16"))
    param_dtype: str = setting("float32", "the weights' own; bfloat16 trains in pure bf16, without fp32 master "
                                          "weights, as the regime paper's ViT code does", choices=("float32", "bfloat16"))
    compile: Optional[bool] = setting(None, "None = torch.compile on a GPU only (on a CPU it rarely pays)", "where")
    fsdp: bool = setting(False, "under torchrun: shard weights, gradients and optimiser state (FSDP2) instead of "
                                "replicating them (DDP), for models too large for that (memory.py)", "where")
    seed: int = setting(1337, "initial weights, the order of the training windows, dropout")


DEFAULTS = {f.name: f.default for f in fields(Config)}
# settings declared after runs were first recorded (issues 36 and 38): an older run's record lacks them, and it
# ran as their defaults say, which leave training as it was (checked bit for bit when each was added)
ADDED_LATER = ("alpha_fp32", "alpha_lr_scale", "calibrate_alpha", "start_from")
WHERE_KEYS, LABEL_KEYS, SPLIT_KEYS = (tuple(f.name for f in fields(Config) if f.metadata["kind"] == kind)
                                    for kind in ("where", "label", "split"))


def global_batch(settings):
    """Examples a step (batch_size x gradient_accumulation_steps), whatever the number of processes; None for
    settings that lack them."""
    split = [settings.get(k) for k in SPLIT_KEYS]
    return split[0] * split[1] if all(type(v) is int for v in split) else None


def run_identity(settings):
    """The settings that make a run what it is, of a dict: all but WHERE_KEYS, and the global batch in place
    of its split (a run resumed as 8 x 8 where it had 1 x 64 is the same run)."""
    what = {k: v for k, v in settings.items() if k not in (*WHERE_KEYS, *SPLIT_KEYS)}
    return {**what, "global_batch": global_batch(settings)}

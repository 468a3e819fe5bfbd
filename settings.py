"""
Every setting of a run, declared once: its default and type, what it means, and its kind (model.setting).

The model's settings are ModelConfig's fields (model.py); Config adds the run's. Config files and
--key=value arguments change the defaults (configurator.py); `python train.py --help` lists them all
and `python configurator.py CONFIG` shows what a config sets. A run is what its settings say: all but
the "where" kind make it what it is ("split" ones through their product, the global batch), and a run
folder is resumed only with the same ones (max_iters may grow: a run is continued, never shortened);
"label" settings are how report.py groups runs.
"""

from dataclasses import dataclass, fields
from typing import Optional

from model import ModelConfig, setting


@dataclass(frozen=True)
class Config(ModelConfig):
    """A run's settings, the model's first. The defaults train a small GPT on tiny Shakespeare bytes."""
    # what the run is, as report.py groups and compares runs
    study: Optional[str] = setting(None, "regime (norms over model sizes and data budgets), entropy, plateau or vit",
                                   "label")
    method: Optional[str] = setting(None, "the run's arm, e.g. dyt_alpha0.5; None = its norm's label (vanilla for the "
                                          "architecture's usual norm); a label of another norm is an error", "label")
    scale: Optional[str] = setting(None, "e.g. 64m, micro", "label")
    budget: Optional[str] = setting(None, "e.g. 1m, 8k; 118m_10k for the 10,000-step runs", "label")
    # I/O
    out_dir: Optional[str] = setting(None, "the run folder; None = out/ + the config's path under config/, + the "
                                           "overrides", "where")
    eval_interval: int = setting(250, "evaluate, log and checkpoint every this many steps (and at the end)", least=1)
    log_interval: int = setting(10, "print the training loss every this many steps", "where", least=1)
    init_from: str = setting("scratch", "scratch or resume (from out_dir/ckpt.pt)", "where",
                             choices=("scratch", "resume"))
    overwrite: bool = setting(False, "allow starting from scratch over a finished run in out_dir", "where")
    # data
    dataset: str = setting("shakespeare_byte", "a folder of data_dir made by prepare_data.py")
    data_dir: str = setting("data", "where prepare_data.py wrote the datasets", "where")
    train_tokens: Optional[int] = setting(None, "training budget: the first train_tokens tokens of train.bin (None = "
                                                "all)")
    val_tokens: Optional[int] = setting(None, "validation: the first val_tokens tokens of val.bin (None = all); with a "
                                              "prefix, the whole split is also evaluated, at the end and at the best "
                                              "checkpoint")
    train_images: Optional[int] = setting(None, "an image dataset's training budget: its first train_images images")
    augment_pad: int = setting(0, "image datasets: crop each training image from it padded by this many pixels")
    augment_flip: bool = setting(False, "image datasets: flip each training image left-right with probability 1/2")
    batch_size: int = setting(32, "micro-batch, in sequences (images for an image dataset)", "split", least=1)
    gradient_accumulation_steps: int = setting(1, "micro-batches per step, summed over all processes (as in nanoGPT)",
                                               "split", least=1)
    # optimiser: AdamW, weight decay on matrices and embeddings only (tensors of 2 or more dimensions)
    learning_rate: float = setting(1e-3, "the peak, reached at the end of warmup")
    max_iters: int = setting(2000, "training steps; a finished run can be continued to more", least=0)
    weight_decay: float = setting(0.1, "AdamW's, on matrices and embeddings")
    slope_weight_decay: bool = setting(False, "decay the learnable leaky-ReLU slopes too (the entropic-overload "
                                              "paper does)")
    weight_decay_all: bool = setting(False, "decay every parameter, gains, biases and alphas too (the regime paper's "
                                            "ViT code does)")
    freeze_alpha: bool = setting(False, "keep every squashing norm's alpha at alpha_0, untrained (the pure-bf16 "
                                        "experiment's control)")
    beta1: float = setting(0.9, "AdamW's first-moment decay")
    beta2: float = setting(0.95, "AdamW's second-moment decay")
    grad_clip: float = setting(1.0, "clip the global gradient norm at this value (0 = no clipping)")
    # schedule: linear warmup, then a cosine (or linear) decay to min_lr at lr_decay_iters, then min_lr
    warmup_iters: int = setting(200, "steps of linear warmup from 0", least=0)
    lr_decay: str = setting("cosine", "cosine (nanoGPT's) or linear (the entropic-overload paper's) after warmup",
                            choices=("cosine", "linear"))
    lr_per_epoch: bool = setting(False, "hold the rate through each epoch of the training budget, the schedule "
                                        "stepped once an epoch (the regime paper's ViT code steps its cosine so)")
    lr_decay_iters: int = setting(2000, "the step where the decay reaches min_lr")
    min_lr: float = setting(1e-4, "the learning rate after lr_decay_iters")
    # system
    device: Optional[str] = setting(None, "None = cuda if a GPU is there, else cpu", "where")
    dtype: Optional[str] = setting(None, "autocast: None = bfloat16 on a GPU that has it, else float32 (fp32 "
                                         "weights); float16 would need a loss scaler", "where", choices=("float32", "bfloat16"))
    param_dtype: str = setting("float32", "the weights' own dtype: bfloat16 trains in pure bf16, without fp32 master "
                                          "weights, as the regime paper's ViT code does",
                                  choices=("float32", "bfloat16"))
    compile: Optional[bool] = setting(None, "None = torch.compile on a GPU only (on a CPU it rarely pays)", "where")
    fsdp: bool = setting(False, "under torchrun: shard parameters, gradients and optimiser state (FSDP2) instead of "
                                "replicating them (DDP), for models that do not fit one GPU (see memory.py)", "where")
    seed: int = setting(1337, "initial weights, the order of the training windows, dropout")


DEFAULTS = {f.name: f.default for f in fields(Config)}
# where and how a run goes: these may change when it is resumed, and name no run folder
RUN_KEYS = tuple(f.name for f in fields(Config) if f.metadata["kind"] == "where")
# how report.py groups runs: they label a run (report.md), and do not name its folder
LABEL_KEYS = tuple(f.name for f in fields(Config) if f.metadata["kind"] == "label")
# how a step's global batch is split into micro-batches: how a run runs, while the global batch is what it is
SPLIT_KEYS = tuple(f.name for f in fields(Config) if f.metadata["kind"] == "split")


def global_batch(settings):
    """Examples per step (batch_size x gradient_accumulation_steps), whatever the number of processes."""
    return settings["batch_size"] * settings["gradient_accumulation_steps"]


def identity(settings):
    """The settings that make a run what it is, of a dict: all but RUN_KEYS, and the global batch in place
    of its split (a run resumed with 8 x 8 where it had 1 x 64 is the same run)."""
    return {**{k: v for k, v in settings.items() if k not in (*RUN_KEYS, *SPLIT_KEYS)}, "global_batch": global_batch(settings)}

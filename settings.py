"""
Every setting of a run: its default, what it means, and which settings make a run what it is.

Config files and --key=value arguments change these defaults (configurator.py reads them);
`python train.py --help` lists them with the comments below, `python configurator.py CONFIG`
shows what a config sets. The model's settings are the fields of ModelConfig; model.py builds it.

A run is what its settings say. Every setting makes the run what it is, except the few that say
where and how it runs (RUN_KEYS): a run may be resumed on another device, under another number of
processes, from another data folder. max_iters may grow (a run is continued, never shortened).
train.py keeps a run's resolved settings in its folder (settings.json) and refuses to resume a
folder whose settings differ in any other key; sweep.py names a run folder after its config, the
command line's overrides that change the run and its seed, and refuses to count as done a folder
that holds another run.
"""

import os
from dataclasses import dataclass, fields
from typing import Optional

from cli import ConfigError

HERE = os.path.dirname(os.path.abspath(__file__))


@dataclass
class ModelConfig:
    """The model (model.py builds it). The defaults are a small GPT that trains on tiny Shakespeare
    bytes in minutes on a laptop CPU; the configs in config/ set the papers' shapes."""
    arch: str = "gpt"                 # "gpt" (GPT-2: learned positions, GELU MLP), "llama" (rotary, SwiGLU) or
                                      # "vit" (a Vision Transformer over an image dataset's patches)
    block_size: int = 128             # context length in tokens
    vocab_size: Optional[int] = None  # None = the dataset's vocabulary padded up to a multiple of 64 (GPT-2: 50304)
    n_layer: int = 4                  # transformer blocks
    n_head: int = 4                   # attention heads (n_embd / n_head channels each)
    n_kv_head: Optional[int] = None   # grouped-query attention's key/value heads; None = n_head (plain multi-head)
    n_embd: int = 128                 # width of the residual stream
    dropout: float = 0.0              # on attention, on each block's two outputs and on the embeddings
    bias: bool = False                # biases in Linear layers, and in the norms that have one (GPT-2 has them)
    norm: str = "layernorm"           # a name in dyt.NORMS (--help lists them)
    norm_final: Optional[str] = None  # the final norm if it differs (LN-free models keep a final LayerNorm)
    norm_eps: Optional[float] = None  # a normalising norm's eps; None = its own (LayerNorm 1e-5, RMSNorm 1e-6)
    alpha_init: Optional[float] = None  # a squashing norm's alpha_0 at every site; None = the norm's own alpha_default
    # the DyT authors tune alpha_0 apart at the three sites; None = alpha_init
    alpha_init_attn: Optional[float] = None   # alpha_0 of the norms before attention
    alpha_init_ffn: Optional[float] = None    # alpha_0 of the norms before the MLP
    alpha_init_final: Optional[float] = None  # alpha_0 of the final norm
    embed_scale: bool = False         # a learnable scalar on the embeddings, init sqrt(n_embd) (DyT's LLM recipe)
    activation: str = "gelu"          # gelu (exact), relu, swiglu, leaky_relu (a learnable slope per layer,
                                      # init 0.01), leaky_relu_global (one learnable slope for the model),
                                      # leaky_relu_fixed (slope 0.1)
    scaled_init: bool = True          # GPT-2's residual projections at std 0.02 / sqrt(2 n_layer); False = plain
                                      # N(0, 0.02), as the entropic-overload paper's LN-free models use
    rope: bool = True                 # llama only: rotary positions; False leaves attention without positions
    rope_theta: float = 10000.0       # llama only: the base of the rotary frequencies
    patch_size: int = 4               # vit only: the side of a square patch, in pixels
    image_size: Optional[int] = None  # vit only: the side of a square image; None = the dataset's
    channels: Optional[int] = None    # vit only: colour channels; None = the dataset's
    num_classes: Optional[int] = None  # vit only: None = the dataset's classes


def model_config(settings):
    """The ModelConfig of a run's settings (a dict, or a namespace like train.py's): the one place
    settings become a model. Settings that are not model fields are left out."""
    values = settings if isinstance(settings, dict) else vars(settings)
    return ModelConfig(**{f.name: values[f.name] for f in fields(ModelConfig) if f.name in values})


# -----------------------------------------------------------------------------
# The run's own settings (the model's are ModelConfig's fields above)

# what the run is, as report.py groups and compares runs
study = None                 # "regime" (norms over model sizes and data budgets), "entropy" or "plateau"
method = None                # the run's arm, e.g. "dyt_alpha0.5"; None = its norm's label ("vanilla" for the
                             # architecture's usual norm); a label that names another norm is an error
scale = None                 # e.g. "64m", "micro"
budget = None                # e.g. "1m", "8k"; "118m_10k" for the 10,000-step runs
# I/O
out_dir = None               # the run folder; None = out/ + the config's path under config/, + the overrides
eval_interval = 250          # evaluate, log and checkpoint every this many steps (and at the end)
log_interval = 10            # print the training loss every this many steps
init_from = "scratch"        # "scratch" or "resume" (from out_dir/ckpt.pt)
overwrite = False            # allow starting from scratch over a finished run in out_dir
# data
dataset = "shakespeare_byte"  # a folder of data_dir made by prepare_data.py
data_dir = "data"            # where prepare_data.py wrote the datasets
train_tokens = None          # training budget: the first train_tokens tokens of train.bin (None = all)
val_tokens = None            # validation: the first val_tokens tokens of val.bin (None = all); with a
                             # prefix, the whole split is also evaluated, at the end and at the best checkpoint
train_images = None          # an image dataset's training budget: its first train_images images (None = all)
augment_pad = 0              # image datasets: crop each training image from it padded by this many pixels
augment_flip = False         # image datasets: flip each training image left-right with probability 1/2
batch_size = 32              # micro-batch, in sequences (images for an image dataset)
gradient_accumulation_steps = 1  # micro-batches per step, summed over all processes (as in nanoGPT)
# optimiser: AdamW, weight decay on matrices and embeddings only (tensors of 2 or more dimensions)
learning_rate = 1e-3         # the peak, reached at the end of warmup
max_iters = 2000             # training steps; a finished run can be continued to more
weight_decay = 0.1           # AdamW's, on matrices and embeddings
slope_weight_decay = False   # decay the learnable leaky-ReLU slopes too (the entropic-overload paper does)
weight_decay_all = False     # decay every parameter, gains, biases and alphas too (the regime paper's ViT code does)
freeze_alpha = False         # keep every squashing norm's alpha at alpha_0, untrained (the pure-bf16 experiment's control)
beta1 = 0.9                  # AdamW's first-moment decay
beta2 = 0.95                 # AdamW's second-moment decay
grad_clip = 1.0              # clip the global gradient norm at this value (0 = no clipping)
# schedule: linear warmup, then a cosine (or linear) decay to min_lr at lr_decay_iters, then min_lr
warmup_iters = 200           # steps of linear warmup from 0
lr_decay = "cosine"          # "cosine" (nanoGPT's) or "linear" (the entropic-overload paper's) after warmup
lr_per_epoch = False         # hold the rate through each epoch of the training budget, the schedule stepped once an
                             # epoch (the regime paper's ViT code steps its cosine so)
lr_decay_iters = 2000        # the step where the decay reaches min_lr
min_lr = 1e-4                # the learning rate after lr_decay_iters
# system
device = None                # None = "cuda" if a GPU is there, else "cpu"
dtype = None                 # None = "bfloat16" on a GPU that has it, else "float32" (autocast: fp32 weights)
param_dtype = "float32"      # the weights' own dtype: "bfloat16" trains in pure bf16, without fp32 master
                             # weights, as the regime paper's ViT code does
compile = None               # None = torch.compile on a GPU only (on a CPU it rarely pays)
fsdp = False                 # under torchrun: shard parameters, gradients and optimiser state (FSDP2)
                             # over the processes instead of replicating them (DDP); for models that
                             # do not fit one GPU with their optimiser state (see memory.py)
seed = 1337                  # initial weights, the order of the training windows, dropout
# -----------------------------------------------------------------------------
DEFAULTS = {**{f.name: f.default for f in fields(ModelConfig)},
            **{k: v for k, v in globals().items() if k.islower() and not k.startswith("_")
               and isinstance(v, (bool, int, float, str, type(None)))}}

# settings that default to None but take a float: an int given for one is read as a float (alpha_init=3 is 3.0)
FLOATS = {f.name for f in fields(ModelConfig) if f.type == Optional[float]}

# Where and how a run goes, not what it is: these may change when a run is resumed, and no run
# folder is named after them
RUN_KEYS = ("out_dir", "data_dir", "init_from", "overwrite", "log_interval", "device", "dtype", "compile", "fsdp")
# How report.py groups runs: they label a run (report.md), and do not name its folder
LABEL_KEYS = ("study", "method", "scale", "budget")
# A norm's own settings: an arm is compared with the baseline runs whose settings equal its own in every
# other key (runs.py)
NORM_KEYS = ("norm", "norm_eps", "alpha_init", "alpha_init_attn", "alpha_init_ffn", "alpha_init_final", "freeze_alpha")
# The architecture's usual norm, the baseline every other norm is compared with ("vanilla")
BASELINE_NORM = {"gpt": "layernorm", "llama": "rmsnorm", "vit": "layernorm"}


def help_settings():
    """(name, default, meaning) of every setting, for --help: the comments above and ModelConfig's, and
    the norms of the registry (a fork's among them)."""
    from cli import comments
    from dyt import NORMS
    notes = comments(os.path.join(HERE, "settings.py"))
    notes["norm"] = f"{notes['norm']}: {', '.join(NORMS)}"
    return [(name, default, notes.get(name, "")) for name, default in DEFAULTS.items()]


# -----------------------------------------------------------------------------
# Which run a set of settings is

def norm_label(norm, arch):
    """How report.py names a norm: "vanilla" for the architecture's usual one, else its registry name."""
    return "vanilla" if BASELINE_NORM.get(arch) == norm else norm


def claimed_norm(method, labels):
    """The norm label a method name begins with (the longest of `labels`), or None: 'dytrecipe' is DyT's."""
    return max((lab for lab in labels if method.startswith(lab)), key=len, default=None)


def format_value(value):
    """A setting's value as a run folder's name shows it: 0.003, 1000000, dyt, None."""
    text = repr(value) if isinstance(value, float) else str(value)
    return "".join(c if c.isalnum() or c in "._+-" else "-" for c in text)


def name_suffix(changes):
    """'_norm=softsign_alpha_init=1.0' for the overrides that change a run ((key, value, the config's value)
    in the order given); a very long one keeps its start and a hash of the whole, so a folder name stays
    readable and unique."""
    text = "".join(f"_{key}={format_value(value)}" for key, value, *_ in changes)
    if len(text) > 120:
        import hashlib
        text = text[:100] + "_" + hashlib.sha1(text.encode()).hexdigest()[:8]
    return text


def run_name(config_path, changes, seed):
    """A sweep's run folder name: the config's file name, the overrides that change the run, the seed."""
    return f"{os.path.splitext(os.path.basename(config_path))[0]}{name_suffix(changes)}_s{seed}"


def default_out_dir(config_paths, changes, seed_changed, seed):
    """out/ + the last config's path under config/ (or its file name) + the overrides that change the
    run (+ _s<seed> when the seed was given): config/micro/dyt_micro_8k.py -> out/micro/dyt_micro_8k."""
    if not config_paths:
        return "out"
    path = os.path.abspath(config_paths[-1])
    under = os.path.relpath(path, os.path.join(HERE, "config"))
    stem = os.path.splitext(under if not under.startswith("..") else os.path.basename(path))[0]
    return os.path.join("out", stem) + name_suffix(changes) + (f"_s{seed}" if seed_changed else "")


def identity(settings):
    """The settings that make a run what it is (all but RUN_KEYS)."""
    return {k: v for k, v in settings.items() if k not in RUN_KEYS}


NOT_SET = object()  # the value of a key a folder's settings lack: written before that setting existed


def differences(stored, asked):
    """The keys, beyond where and how a run goes, in which a run folder's settings differ from the ones
    asked for: [(key, stored value, asked value)]. A key the folder's settings lack differs (the run's
    value for it is unknown); max_iters is compared by the caller (a run may be continued)."""
    return [(k, stored.get(k, NOT_SET), v) for k, v in identity(asked).items()
            if k != "max_iters" and (k not in stored or stored[k] != v)]


def say_differences(diffs):
    """'norm (dyt there, layernorm asked), n_embd (32 there, 48 asked)'."""
    return ", ".join(f"{k} ({'not set' if there is NOT_SET else repr(there)} there, {asked!r} asked)"
                     for k, there, asked in diffs)


# -----------------------------------------------------------------------------
# Settings left to None that the machine decides (torch is imported here only: the config view answers
# without it)

def available_devices():
    """The devices this machine has, as torch names them."""
    import torch
    return (["cpu"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
            + (["mps"] if torch.backends.mps.is_available() else []))


def check_device(device):
    """Refuse a device this machine does not have, naming the ones it has."""
    import torch
    try:
        d = torch.device(device)
    except RuntimeError:
        raise ConfigError(f"device={device!r} is not a device name: use cpu, cuda, cuda:N or mps") from None
    if not (d.type == "cpu" or (d.type == "cuda" and (d.index or 0) < torch.cuda.device_count())
            or (d.type == "mps" and torch.backends.mps.is_available())):
        raise ConfigError(f"device={device!r} is not on this machine, which has {', '.join(available_devices())}")


# the smallest value each count can take (max_iters = 0 evaluates the initial model and stops)
AT_LEAST = {"batch_size": 1, "gradient_accumulation_steps": 1, "block_size": 1, "n_layer": 1, "n_head": 1,
            "n_embd": 1, "eval_interval": 1, "log_interval": 1, "max_iters": 0, "warmup_iters": 0}


def resolve_system(cfg):
    """Refuse settings no run can start with; fill in device, dtype and compile when left to None."""
    import torch
    for key, least in AT_LEAST.items():
        if getattr(cfg, key) < least:
            raise ConfigError(f"{key}={getattr(cfg, key)} must be at least {least}")
    if cfg.device is None:
        cfg.device = "cuda" if torch.cuda.is_available() else "cpu"
    check_device(cfg.device)
    if cfg.dtype is None:
        gpu_bf16 = cfg.device.startswith("cuda") and torch.cuda.is_bf16_supported()
        cfg.dtype = "bfloat16" if gpu_bf16 else "float32"
    if cfg.param_dtype not in ("float32", "bfloat16"):
        raise ConfigError(f"param_dtype={cfg.param_dtype!r}: use float32 or bfloat16")
    if cfg.lr_decay not in ("cosine", "linear"):
        raise ConfigError(f"lr_decay={cfg.lr_decay!r}: use cosine or linear")
    if cfg.dtype not in ("float32", "bfloat16"):
        raise ConfigError(f"dtype={cfg.dtype!r}: use float32 or bfloat16 (float16 would need a loss scaler)")
    if cfg.compile is None:
        cfg.compile = cfg.device.startswith("cuda")

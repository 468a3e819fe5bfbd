"""
Remove LayerNorm from a trained model: start a run from trained weights instead of random ones
(start_from), each norm converted to the run's own, then fine-tune as any run trains.

A source is a run of this repo (its folder, whose ckpt.pt is read, or a checkpoint file) or GPT-2's
released weights as Hugging Face ships them (pytorch_model.bin for gpt2, -medium, -large or -xl), read
with weights_only=True and mapped to this repo's modules as nanoGPT maps them: GPT-2's Conv1D stores
its matrices as (in, out), so they are transposed.

Each norm class declares what of a trained norm it keeps (dyt.py, `keeps`): LayerNorm -> DyT keeps the
gain and the bias, -> RMSNorm the gain, -> identity nothing (the norm is removed outright). A squashing
norm's alpha starts at its alpha_0, or with calibrate_alpha at 1/std of its site's input in the trained
model over the probes' windows of the training data: the DyT paper finds a trained DyT's alpha tracking
1/std of its input. Every other weight must fit the run's model by name and shape, or the run is refused.
"""

import hashlib
import os
from dataclasses import dataclass

import torch

from cli import ConfigError
from dyt import NORMS, SquashingNorm
from model import Transformer, model_config
from probes import NormStats, forward_with_hooks, norm_hooks

# GPT-2's Conv1D layers hold (in, out) matrices where nn.Linear holds (out, in)
GPT2_CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")
GPT2_HEADS = {768: 12, 1024: 16, 1280: 20, 1600: 25}  # gpt2, -medium, -large, -xl: heads are not in the file


def source_path(cfg):
    """start_from with '{seed}' replaced by the run's seed (three seeds of a study start from three runs)."""
    return cfg.start_from.replace("{seed}", str(cfg.seed))


def checkpoint_file(path):
    """The file a source names: a run folder's ckpt.pt, or the file itself."""
    if os.path.isdir(path):
        path = os.path.join(path, "ckpt.pt")
        if not os.path.exists(path):
            raise ConfigError(f"start_from: run folder {os.path.dirname(path)} has no ckpt.pt (a sharded run's weights "
                              f"are its best.pt): point start_from at a checkpoint file")
    elif not os.path.exists(path):
        raise ConfigError(f"start_from: there is no run folder or file at {path}: train the source run first, or "
                          f"download GPT-2's pytorch_model.bin (README)")
    return path


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def gpt2_model_args(state):
    """The model settings GPT-2's weights imply: its shapes, LayerNorm with biases, its tanh GELU."""
    n_embd = state["wte.weight"].shape[1]
    if n_embd not in GPT2_HEADS:
        raise ConfigError(f"start_from: a GPT-2 file of width {n_embd}, not one of the released models' "
                          f"({', '.join(map(str, GPT2_HEADS))}): download gpt2, gpt2-medium, -large or -xl")
    return {"arch": "gpt", "vocab_size": state["wte.weight"].shape[0], "block_size": state["wpe.weight"].shape[0],
            "n_layer": len({k.split(".")[1] for k in state if k.startswith("h.")}), "n_head": GPT2_HEADS[n_embd],
            "n_embd": n_embd, "bias": True, "norm": "layernorm", "norm_eps": 1e-5, "activation": "gelu_tanh",
            "embed_scale": False}


def gpt2_state(hf):
    """Hugging Face's GPT-2 state dict under this repo's names (its attention masks dropped, Conv1D
    matrices transposed, the head tied to the token embedding)."""
    state = {}
    for key, value in hf.items():
        key = key.removeprefix("transformer.")
        if key.endswith((".attn.bias", ".attn.masked_bias")) or key == "lm_head.weight":
            continue  # the causal masks are buffers; the head is the tied embedding
        state[key] = value.t() if key.endswith(GPT2_CONV1D) else value
    state["lm_head.weight"] = state["wte.weight"]
    return state


def read_source(path):
    """(state dict under this repo's names, the source's model settings) of a checkpoint of this repo or a
    Hugging Face GPT-2 file."""
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise ConfigError(f"start_from: {path} is not a torch file this repo can read ({type(e).__name__}: "
                          f"{str(e).splitlines()[0]}): point it at a run folder, a checkpoint or GPT-2's "
                          f"pytorch_model.bin") from None
    if isinstance(loaded, dict) and "model" in loaded and "model_args" in loaded:
        return loaded["model"], loaded["model_args"]
    if isinstance(loaded, dict) and any(k.removeprefix("transformer.") == "wte.weight" for k in loaded):
        state = gpt2_state(loaded)
        return state, gpt2_model_args(state)
    raise ConfigError(f"start_from: {path} is neither a checkpoint of this repo nor GPT-2's pytorch_model.bin")


@dataclass(frozen=True)
class Source:
    """A run's trained model, read once: its file, that file's SHA-256, its weights under this repo's names and
    its model settings."""
    path: str
    sha256: str
    state: dict
    model_args: dict

    def settings(self):
        """What settings.json records of it, so that a resume refuses a source that changed."""
        return {"start_from_sha256": self.sha256, "start_from_model": self.model_args}


def load(cfg):
    """The run's Source (start_from, '{seed}' filled in), or None for a run from random weights."""
    if cfg.start_from is None:
        return None
    path = checkpoint_file(source_path(cfg))
    return Source(path, sha256(path), *read_source(path))


def norm_names(model):
    """The module names of the model's norm sites (identity included: its trained norm is dropped)."""
    return [name for name, m in model.named_modules() if isinstance(m, tuple(NORMS.values()))]


def refuse_misfit(model, state, source_args):
    """One line for a source whose weights (all but the norms') do not fit the run's model by name and shape."""
    norms = tuple(f"{name}." for name in norm_names(model))
    own = {k: tuple(v.shape) for k, v in model.state_dict().items() if not k.startswith(norms)}
    theirs = {k: tuple(v.shape) for k, v in state.items() if not k.startswith(norms)}
    if "wpe.weight" in own and "wpe.weight" in theirs and theirs["wpe.weight"][0] >= own["wpe.weight"][0]:
        theirs["wpe.weight"] = own["wpe.weight"]  # a shorter context takes the first positions (nanoGPT's crop)
    wrong = sorted(set(own) ^ set(theirs)) + sorted(k for k in own.keys() & theirs.keys() if own[k] != theirs[k])
    if wrong:
        k = wrong[0]
        has = ", ".join(f"{key}={source_args[key]}" for key in ("arch", "n_layer", "n_head", "n_embd", "vocab_size",
                                                                 "block_size", "bias") if key in source_args)
        raise ConfigError(f"start_from: the source's weights do not fit this model ({len(wrong)} differ, first {k}: "
                          f"{theirs.get(k, 'absent')} in the source, {own.get(k, 'absent')} here): the source has "
                          f"{has}; set the same")


@torch.no_grad()
def input_stds(trained, probe_x, autocast, chunk):
    """The std of every norm site's input in the trained model, over probe_x (in chunks)."""
    stats = NormStats()
    for x in probe_x.split(chunk):
        forward_with_hooks(trained, x, autocast, norm_hooks(trained, stats))
    return stats.std()


@torch.no_grad()
def convert(model, source, calibrate_alpha, probe_x, autocast, chunk):
    """Load the source into the freshly built model, each norm by its class's rule; returns each squashing
    norm's alpha_0 ({site: alpha}: with calibrate_alpha 1/std of its input over probe_x, in chunks, else its own)."""
    state = source.state
    refuse_misfit(model, state, source.model_args)
    norms = norm_names(model)
    own = model.state_dict()
    for key, value in state.items():
        if not key.startswith(tuple(f"{n}." for n in norms)):
            own[key] = value[:own[key].shape[0]] if key == "wpe.weight" else value
    if calibrate_alpha:
        trained = Transformer(model_config(source.model_args)).to(probe_x.device)
        trained.load_state_dict(state)
        stds = input_stds(trained, probe_x, autocast, chunk)
    alphas = {}
    for name in norms:
        module = model.get_submodule(name)
        for key in getattr(module, "keeps", ()):  # the rule the target class declares (none: keep nothing)
            if getattr(module, key, None) is not None and f"{name}.{key}" in state:
                own[f"{name}.{key}"] = state[f"{name}.{key}"]
        if isinstance(module, SquashingNorm) and module.alpha is not None:
            if calibrate_alpha:
                own[f"{name}.alpha"] = torch.full_like(module.alpha, 1.0 / stds[name])
            alphas[name] = own[f"{name}.alpha"].item()
    model.load_state_dict(own)
    return alphas

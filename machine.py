"""
Where a run runs: its device and precision, its processes, and how the model is spread over them.

One process on a CPU or a GPU, or torchrun's processes (NCCL on GPUs, gloo on CPUs), each with the
whole model (DDP: gradients averaged after the last micro-step) or a shard of it (FSDP2). Settings
left to None are decided here by what the machine has: device, autocast dtype, torch.compile. None
of this changes what a run is (settings.py: the "where" kind): a run may resume on another machine.
"""

import gc
import math
import os
from contextlib import nullcontext
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard
from torch.nn.parallel import DistributedDataParallel as DDP

from cli import ConfigError


def available_devices():
    """The devices this machine has, as torch names them."""
    return (["cpu"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
            + (["mps"] if torch.backends.mps.is_available() else []))


def check_device(device):
    """Refuse a device this machine does not have, naming the ones it has."""
    try:
        d = torch.device(device)
    except RuntimeError:
        raise ConfigError(f"device={device!r} is not a device name: use cpu, cuda, cuda:N or mps") from None
    if not (d.type == "cpu" or (d.type == "cuda" and (d.index or 0) < torch.cuda.device_count())
            or (d.type == "mps" and torch.backends.mps.is_available())):
        raise ConfigError(f"device={device!r} is not on this machine, which has {', '.join(available_devices())}")


def system_settings(cfg):
    """device, dtype and compile as this machine resolves them where cfg leaves them to None."""
    device = cfg.device or ("cuda" if torch.cuda.is_available() else "cpu")
    check_device(device)
    gpu_bf16 = device.startswith("cuda") and torch.cuda.is_bf16_supported()
    dtype = cfg.dtype or ("bfloat16" if gpu_bf16 else "float32")
    return {"device": device, "dtype": dtype, "compile": device.startswith("cuda") if cfg.compile is None else cfg.compile}


@dataclass(frozen=True)
class Machine:
    """This process of a run: its device, precision, rank among world processes, and how it spreads the model."""
    device: str
    dtype: str            # autocast's: bfloat16 computes matmuls in bf16 over the weights' own dtype
    param_dtype: str      # the weights' own
    compile: bool
    fsdp: bool            # shard the model over the processes (only when there are several)
    rank: int = 0
    world: int = 1

    @property
    def master(self):
        return self.rank == 0

    @property
    def device_type(self):
        return "cuda" if self.device.startswith("cuda") else "cpu"

    def autocast(self):
        return torch.autocast(self.device_type, dtype=torch.bfloat16) if self.dtype == "bfloat16" else nullcontext()

    def to_device(self, t):
        """A batch on the run's device (where it is not already), images in the weights' dtype; pinned
        memory lets the copy to a GPU overlap with compute."""
        t = t.pin_memory() if self.device_type == "cuda" and t.device.type == "cpu" else t
        return t.to(self.device, dtype=getattr(torch, self.param_dtype) if t.is_floating_point() else None,
                    non_blocking=True)

    def settings(self):
        """The settings this process resolved: what settings.json records besides the asked ones."""
        return {"device": self.device, "dtype": self.dtype, "compile": self.compile, "fsdp": self.fsdp}


def setup(cfg):
    """This process's Machine: the system settings resolved and, under torchrun, the process group joined."""
    system = system_settings(cfg)
    if system["device"].startswith("cuda"):  # TF32 matmuls where fp32 remains (autocast's bf16 covers most)
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    if "RANK" not in os.environ:
        return Machine(**system, param_dtype=cfg.param_dtype, fsdp=False)
    if system["device"].startswith("cuda"):
        if int(os.environ["LOCAL_RANK"]) >= torch.cuda.device_count():
            raise ConfigError(f"torchrun started {os.environ['LOCAL_WORLD_SIZE']} processes on this node but it has "
                              f"{torch.cuda.device_count()} GPUs: lower --nproc_per_node")
        system["device"] = f"cuda:{os.environ['LOCAL_RANK']}"
        torch.cuda.set_device(system["device"])
    dist.init_process_group(backend="nccl" if system["device"].startswith("cuda") else "gloo")
    world = dist.get_world_size()
    return Machine(**system, param_dtype=cfg.param_dtype, fsdp=cfg.fsdp and world > 1, rank=dist.get_rank(),
                   world=world)


def all_sum(values, device):
    """Element-wise sum over processes of a list of floats, in float64."""
    t = torch.tensor(values, dtype=torch.float64, device=device)
    if dist.is_initialized():
        dist.all_reduce(t)
    return t.tolist()


def micro_batch(batch_size, global_batch, world):
    """Examples a forward pass takes on each process: each process takes an equal share of the global batch,
    in micro-batches of at most batch_size."""
    return math.gcd(batch_size, global_batch // world)


def shard(model, machine):
    """Under FSDP, the model's parameters sharded over the processes, unit by unit, each unit's gathered just
    before it runs (as torchtitan does): the norms of each block, then the block, then the rest (embeddings,
    final norm, head). A sharded run computes what a replicated one does under autocast: a block's matrices
    are gathered in bf16 when the run computes in bf16 (a mixed-precision policy; half the bytes a micro-step
    moves, the values autocast would have cast them to), gradients reduced in fp32 onto the fp32 shards;
    everything else stays fp32 as under DDP: the norms (their own units: DyT's alpha, tanh and gain), the
    residual stream (a block's input is not cast) and the rest. A block's attention and MLP are compiled
    (a compiled whole model would break its graph at every gathering); its norms run eager, and the probes
    run every module eager (probes.forward_with_hooks), so their hooks see every element. Before the
    optimiser is made: it takes the sharded parameters."""
    if not machine.fsdp:
        return
    if model.config.activation == "leaky_relu_global":
        raise ConfigError("activation='leaky_relu_global' shares one slope among all blocks, which FSDP cannot shard "
                          "block by block: use --activation=leaky_relu (a slope per block), or --fsdp=False")
    fp32 = MixedPrecisionPolicy()
    matrices = MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32, cast_forward_inputs=False) \
        if machine.dtype == "bfloat16" else fp32
    for block in model.h:
        for norm in (block.ln_1, block.ln_2):
            if any(True for _ in norm.parameters()):  # no norm (identity) is no unit
                fully_shard(norm, mp_policy=fp32)
        if machine.compile:
            block.attn.compile()
            block.mlp.compile()
        fully_shard(block, mp_policy=matrices)
    fully_shard(model, mp_policy=fp32)


def wrap(model, machine):
    """The model as the training step calls it: under DDP, which all-reduces each bucket of gradients as
    the backward produces it, then compiled, so the compiled graph leaves room for that overlap (compiled
    first, DDP would see one opaque backward); a sharded model is compiled block by block (shard)."""
    if machine.world > 1 and not machine.fsdp:
        model = DDP(model, device_ids=[int(os.environ["LOCAL_RANK"])] if machine.device_type == "cuda" else None)
    return torch.compile(model) if machine.compile and not machine.fsdp else model


def finish():
    """Leave the process group, once the caller has dropped its DDP model. DDP's reducer holds the group:
    freed after destroy_process_group, it would destroy the group itself, holding the GIL while gloo's
    worker threads may still need it to free a finished collective's tensors (a hang seen at exit). Freed
    first (collected here), the group goes with destroy_process_group, which releases the GIL."""
    if dist.is_initialized():
        gc.collect()
        dist.destroy_process_group()


def resolved(cfg):
    """(key, value, where from) of what a run of cfg decides as it starts, on this machine (the config view
    shows them): the model's settings its dataset decides, the model's size, device, dtype and compile."""
    import data
    from model import Transformer, model_config
    out, needed = [], ("image_size", "channels", "num_classes") if cfg.arch == "vit" else ("vocab_size",)
    try:
        found = {}
        if any(getattr(cfg, k) is None for k in needed):  # else the model is known without the data
            found = data.dataset_settings(cfg, data.load_meta(cfg.data_dir, cfg.dataset))
            out += [(k, v, f"{cfg.dataset}'s") for k, v in found.items() if getattr(cfg, k) is None]
        with torch.device("meta"):
            n = Transformer(model_config(cfg, **found)).num_params()
        counted = "" if cfg.arch == "vit" else ", tied embedding once, no position table"
        out.append((None, f"(the model: {n / 1e6:.2f}M parameters{counted})", ""))
    except data.DataError as e:
        out.append((None, "(the dataset's settings, once it is prepared)", str(e)))
    system = system_settings(cfg)
    return out + [(k, repr(system[k]), "this machine") for k in ("device", "dtype", "compile") if getattr(cfg, k) is None]

# GPT-2 with DyT (alpha_0 = 2.0), 3.78B parameters, 118M tokens (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss (mean of 3 seeds): LayerNorm 3.431, DyT 4.389,
# DyT - LayerNorm = +27.9%; DyT saturation 0.803.
from config.common.regime import *

# what this run is: report.py groups and compares runs by these
study = "regime"
method = "dyt"
scale = "3.78b"
budget = "118m"

# the model: 3.78B-sized GPT-2 shape; 1 x 64 = 64 sequences of 512 tokens per step, split to fit one GPU
n_layer = 32
n_head = 32
n_embd = 3_072
batch_size = 1
gradient_accumulation_steps = 64
learning_rate = 0.0001
# replicated on 8 GPUs, weights, gradients, AdamW state and DDP's buckets need ~78 GB per GPU
# (python memory.py config/*3.78b*.py): shard them instead; with one process this does nothing
fsdp = True
# the data: all of WikiText-103's training stream (about 118M tokens), validated on its whole
# validation split
train_tokens = None
val_tokens = None
# the method
norm = "dyt"
alpha_init = 2.0
out_dir = "out/dyt_3.78b_118m"

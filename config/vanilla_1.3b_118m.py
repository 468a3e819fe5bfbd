# GPT-2 with LayerNorm, 1.3B parameters, 118M tokens (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss (mean of 3 seeds): LayerNorm 3.348, DyT 3.697,
# DyT - LayerNorm = +10.4%; DyT saturation 0.238.
from config.common.regime import *

# what this run is: report.py groups and compares runs by these
study = "regime"
method = "vanilla"
scale = "1.3b"
budget = "118m"

# the model: 1.3B-sized GPT-2 shape; 4 x 16 = 64 sequences of 512 tokens per step, split to fit one GPU
n_layer = 24
n_head = 32
n_embd = 2_048
batch_size = 4
gradient_accumulation_steps = 16
learning_rate = 0.0001
# the data: all of WikiText-103's training stream (about 118M tokens), validated on its whole
# validation split
train_tokens = None
val_tokens = None
# the method
norm = "layernorm"
out_dir = "out/vanilla_1.3b_118m"

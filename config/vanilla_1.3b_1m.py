# GPT-2 with LayerNorm, 1.3B parameters, 1M tokens (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss (mean of 3 seeds): LayerNorm 7.693, DyT 7.852,
# DyT - LayerNorm = +2.1%; DyT saturation 0.393.
from config.common.regime import *

# what this run is: report.py groups and compares runs by these
study = "regime"
method = "vanilla"
scale = "1.3b"
budget = "1m"

# the model: 1.3B-sized GPT-2 shape; 4 x 16 = 64 sequences of 512 tokens per step, split to fit one GPU
n_layer = 24
n_head = 32
n_embd = 2_048
batch_size = 4
gradient_accumulation_steps = 16
learning_rate = 0.0001
# the data: the first 1M tokens of WikiText-103's training stream, validated on the first
# max(10,000, N / 100) = 10,000 tokens of its validation split, as the paper does
train_tokens = 1_000_000
val_tokens = 10_000
# the method
norm = "layernorm"
out_dir = "out/vanilla_1.3b_1m"

# GPT-2 with LayerNorm, 64M parameters, 1M tokens (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss (mean of 3 seeds): LayerNorm 9.384, DyT 6.819,
# DyT - LayerNorm = -27.3%; DyT saturation 0.493.
from config.common.regime import *

# what this run is: report.py groups and compares runs by these
study = "regime"
method = "vanilla"
scale = "64m"
budget = "1m"

# the model: 64M-sized GPT-2 shape; 64 x 1 = 64 sequences of 512 tokens per step, split to fit one GPU
n_layer = 12
n_head = 8
n_embd = 512
batch_size = 64
gradient_accumulation_steps = 1
learning_rate = 0.0003
# the data: the first 1M tokens of WikiText-103's training stream, validated on the first
# max(10,000, N / 100) = 10,000 tokens of its validation split, as the paper does
train_tokens = 1_000_000
val_tokens = 10_000
# the method
norm = "layernorm"
out_dir = "out/vanilla_64m_1m"

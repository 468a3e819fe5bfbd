# GPT-2 with LayerNorm, 124M parameters, 10M tokens (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss (mean of 3 seeds): LayerNorm not reported, DyT not reported,
# DyT - LayerNorm = -12.3%; DyT saturation 0.292.
from config.common.regime import *

# what this run is: report.py groups and compares runs by these
study = "regime"
method = "vanilla"
scale = "124m"
budget = "10m"

# the model: 124M-sized GPT-2 shape; 32 x 2 = 64 sequences of 512 tokens per step, split to fit one GPU
n_layer = 12
n_head = 12
n_embd = 768
batch_size = 32
gradient_accumulation_steps = 2
learning_rate = 0.0003
# the data: the first 10M tokens of WikiText-103's training stream, validated on the first
# max(10,000, N / 100) = 100,000 tokens of its validation split, as the paper does
train_tokens = 10_000_000
val_tokens = 100_000
# the method
norm = "layernorm"
out_dir = "out/vanilla_124m_10m"

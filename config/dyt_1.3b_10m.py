# GPT-2 with DyT (alpha_0 = 2.0), 1.3B parameters, 10M tokens (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss (mean of 3 seeds): LayerNorm not reported, DyT not reported,
# DyT - LayerNorm = -1.8%; DyT saturation 0.926.
from config.common.regime import *

# what this run is: report.py groups and compares runs by these
study = "regime"
method = "dyt"
scale = "1.3b"
budget = "10m"

# the model: 1.3B-sized GPT-2 shape; 4 x 16 = 64 sequences of 512 tokens per step, split to fit one GPU
n_layer = 24
n_head = 32
n_embd = 2_048
batch_size = 4
gradient_accumulation_steps = 16
learning_rate = 0.0001
# the data: the first 10M tokens of WikiText-103's training stream, validated on the first
# max(10,000, N / 100) = 100,000 tokens of its validation split, as the paper does
train_tokens = 10_000_000
val_tokens = 100_000
# the method
norm = "dyt"
alpha_init = 2.0
out_dir = "out/dyt_1.3b_10m"

# GPT-2 with DyT (alpha_0 = 2.0), 354M parameters, 118M tokens (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss (mean of 3 seeds): LayerNorm 3.355, DyT 3.803,
# DyT - LayerNorm = +13.4%; DyT saturation 0.327.
from config.common.regime import *

# what this run is: report.py groups and compares runs by these
study = "regime"
method = "dyt"
scale = "354m"
budget = "118m"

# the model: 354M-sized GPT-2 shape; 16 x 4 = 64 sequences of 512 tokens per step, split to fit one GPU
n_layer = 24
n_head = 16
n_embd = 1_024
batch_size = 16
gradient_accumulation_steps = 4
learning_rate = 0.0003
# the data: all of WikiText-103's training stream (about 118M tokens), validated on its whole
# validation split
train_tokens = None
val_tokens = None
# the method
norm = "dyt"
alpha_init = 2.0
out_dir = "out/dyt_354m_118m"

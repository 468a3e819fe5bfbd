# GPT-2 with LayerNorm, 124M parameters, 118M tokens (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss (mean of 3 seeds): LayerNorm 3.498, DyT 3.945,
# DyT - LayerNorm = +12.8%; DyT saturation 0.193.
from config.common.regime import *

# what this run is: report.py groups and compares runs by these
study = "regime"
method = "vanilla"
scale = "124m"
budget = "118m"

# the model: 124M-sized GPT-2 shape; 32 x 2 = 64 sequences of 512 tokens per step, split to fit one GPU
n_layer = 12
n_head = 12
n_embd = 768
batch_size = 32
gradient_accumulation_steps = 2
learning_rate = 0.0003
# the data: all of WikiText-103's training stream (about 118M tokens), validated on its whole
# validation split
train_tokens = None
val_tokens = None
# the method
norm = "layernorm"
out_dir = "out/vanilla_124m_118m"

# GPT-2 with DyT at alpha_0 = 1.0, 64M parameters, 118M tokens (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss: alpha_0 1.0: 4.771 (alpha_0 2.0: 4.313).
from config.common.regime import *

# what this run is: report.py groups and compares runs by these
study = "regime"
method = "dyt_alpha1"
scale = "64m"
budget = "118m"

# the model: 64M-sized GPT-2 shape; 64 x 1 = 64 sequences of 512 tokens per step, split to fit one GPU
n_layer = 12
n_head = 8
n_embd = 512
batch_size = 64
gradient_accumulation_steps = 1
learning_rate = 0.0003
# the data: all of WikiText-103's training stream (about 118M tokens), validated on its whole
# validation split
train_tokens = None
val_tokens = None
# the method
norm = "dyt"
alpha_init = 1.0
out_dir = "out/dyt_64m_118m_alpha1"

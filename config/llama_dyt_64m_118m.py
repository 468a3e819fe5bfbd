# Llama with DyT (alpha_0 = 2.0), 64M-sized (dim 512), 118M tokens (arXiv 2604.23434, reference/paper_cells.json).
# 66.66M parameters (tied embedding counted once).
# Paper, final-step val loss: RMSNorm 3.537, DyT 5.626.
from config.common.regime import *
from config.common.llama import *

# what this run is: report.py groups and compares runs by these
study = "regime"
method = "dyt"
scale = "64m"
budget = "118m"

# the model: 64M-sized; 64 x 1 = 64 sequences of 512 tokens per step
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
alpha_init = 2.0
out_dir = "out/llama_dyt_64m_118m"

# Llama with RMSNorm, 124M-sized (dim 768), 118M tokens (arXiv 2604.23434, reference/paper_cells.json).
# 123.59M parameters (tied embedding counted once).
# The paper reports no figure for this cell.
from config.common.regime import *
from config.common.llama import *

# what this run is: report.py groups and compares runs by these
study = "regime"
method = "vanilla"
scale = "124m"
budget = "118m"

# the model: 124M-sized; 32 x 2 = 64 sequences of 512 tokens per step
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
norm = "rmsnorm"
out_dir = "out/llama_vanilla_124m_118m"

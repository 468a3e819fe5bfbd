# Llama-DyT, 64M-sized, 118M tokens, with GPT-2's GELU MLP instead of SwiGLU (arXiv 2604.23434, reference/paper_cells.json).
# 57.23M parameters (tied embedding counted once).
# Paper, val loss at step 4000 (its run ended there, see reference/paper_cells.json step_notes): 4.476 (baseline Llama-DyT 5.630).
# Collapsed runs plateau near 7.44 with alpha stuck near 2.0.
from config.common.regime import *
from config.common.llama import *

# what this run is: report.py groups and compares runs by these
study = "regime"
method = "dyt_gelu"
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
activation = "gelu"
out_dir = "out/llama_dyt_64m_118m_gelu"

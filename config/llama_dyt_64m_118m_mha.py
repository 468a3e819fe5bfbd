# Llama-DyT, 64M-sized, 118M tokens, with plain multi-head attention (the paper's ablate_gqa) (arXiv 2604.23434, reference/paper_cells.json).
# 66.66M parameters (tied embedding counted once).
# Paper, val loss at step 4000 (its run ended there, see reference/paper_cells.json step_notes): 6.570 (baseline Llama-DyT 5.630).
# The paper's baseline is already multi-head (config/common/llama.py), so this builds the same
# model as llama_dyt_64m_118m: any difference is the seed and the step. Collapsed runs plateau near 7.44 with alpha stuck near 2.0.
from config.common.regime import *
from config.common.llama import *

# what this run is: report.py groups and compares runs by these
study = "regime"
method = "dyt_mha"
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
out_dir = "out/llama_dyt_64m_118m_mha"

# GPT-2 with Derf (Chen, Lu, Zhu, Sun, Liu, arXiv 2512.10938): weight * erf(alpha x + s), alpha_0 = 0.5
# and s_0 = 0 as its authors initialise them; 64M parameters, 118M tokens. Not in the regime
# paper: its DyT in the same cell is config/dyt_64m_118m.py.
from config.common.regime import *

# what this run is: report.py groups and compares runs by these
study = "regime"
method = "derf"
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
norm = "derf"
alpha_init = 0.5
out_dir = "out/derf_64m_118m"

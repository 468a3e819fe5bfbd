# GPT-2 with DyT at alpha_0 = 3.0, 64M parameters, 1M tokens (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss: alpha_0 3.0: 7.409 (alpha_0 2.0: 6.777).
from config.common.regime import *

# what this run is: report.py groups and compares runs by these
study = "regime"
method = "dyt_alpha3"
scale = "64m"
budget = "1m"

# the model: 64M-sized GPT-2 shape; 64 x 1 = 64 sequences of 512 tokens per step, split to fit one GPU
n_layer = 12
n_head = 8
n_embd = 512
batch_size = 64
gradient_accumulation_steps = 1
learning_rate = 0.0003
# the data: the first 1M tokens of WikiText-103's training stream, validated on the first
# max(10,000, N / 100) = 10,000 tokens of its validation split, as the paper does
train_tokens = 1_000_000
val_tokens = 10_000
# the method
norm = "dyt"
alpha_init = 3.0
out_dir = "out/dyt_64m_1m_alpha3"

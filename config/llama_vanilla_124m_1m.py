# Llama with RMSNorm, 124M-sized (dim 768), 1M tokens (arXiv 2604.23434, reference/paper_cells.json).
# 123.59M parameters (tied embedding counted once).
# Paper, final-step val loss: RMSNorm 9.134, DyT 8.483.
from config.common.regime import *
from config.common.llama import *

# what this run is: report.py groups and compares runs by these
study = "regime"
method = "vanilla"
scale = "124m"
budget = "1m"

# the model: 124M-sized; 32 x 2 = 64 sequences of 512 tokens per step
n_layer = 12
n_head = 12
n_embd = 768
batch_size = 32
gradient_accumulation_steps = 2
learning_rate = 0.0003
# the data: the first 1M tokens of WikiText-103's training stream, validated on the first
# max(10,000, N / 100) = 10,000 tokens of its validation split, as the paper does
train_tokens = 1_000_000
val_tokens = 10_000
# the method
norm = "rmsnorm"
out_dir = "out/llama_vanilla_124m_1m"

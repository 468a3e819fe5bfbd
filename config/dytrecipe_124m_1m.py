# GPT-2 with DyT as its authors tune it for LLMs (arXiv 2503.10622): alpha_0 0.8 before attention,
# 0.2 before the MLP and 0.2 at the final norm, and a learnable embedding scale starting at sqrt(d).
# Width 768 is narrower than any they tune, so it takes their 4096 row (dyt.LLM_ALPHA0).
# 124M parameters, 1M tokens; the regime paper's own DyT (alpha_0 = 2, no scale) is config/dyt_124m_1m.py.
from config.common.regime import *

# what this run is: report.py groups and compares runs by these
study = "regime"
method = "dytrecipe"
scale = "124m"
budget = "1m"

# the model: 124M-sized GPT-2 shape; 32 x 2 = 64 sequences of 512 tokens per step, split to fit one GPU
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
norm = "dyt"
alpha_init = 2.0
alpha_init_attn = 0.8
alpha_init_ffn = 0.2
alpha_init_final = 0.2
embed_scale = True
out_dir = "out/dytrecipe_124m_1m"

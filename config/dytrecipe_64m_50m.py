# GPT-2 with DyT as its authors tune it for LLMs (arXiv 2503.10622): alpha_0 0.8 before attention,
# 0.2 before the MLP and 0.2 at the final norm, and a learnable embedding scale starting at sqrt(d).
# Width 512 is narrower than any they tune, so it takes their 4096 row (dyt.LLM_ALPHA0).
# 64M parameters, 50M tokens; the regime paper's own DyT (alpha_0 = 2, no scale) is config/dyt_64m_50m.py.
from config.common.regime import *

# what this run is: report.py groups and compares runs by these
study = "regime"
method = "dytrecipe"
scale = "64m"
budget = "50m"

# the model: 64M-sized GPT-2 shape; 64 x 1 = 64 sequences of 512 tokens per step, split to fit one GPU
n_layer = 12
n_head = 8
n_embd = 512
batch_size = 64
gradient_accumulation_steps = 1
learning_rate = 0.0003
# the data: the first 50M tokens of WikiText-103's training stream, validated on its whole validation
# split: the paper's code slices val[:500_000], and the split holds only about 0.25M tokens
train_tokens = 50_000_000
val_tokens = None
# the method
norm = "dyt"
alpha_init = 2.0
alpha_init_attn = 0.8
alpha_init_ffn = 0.2
alpha_init_final = 0.2
embed_scale = True
out_dir = "out/dytrecipe_64m_50m"

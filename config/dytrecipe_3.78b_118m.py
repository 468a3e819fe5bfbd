# GPT-2 with DyT as its authors tune it for LLMs (arXiv 2503.10622): alpha_0 0.8 before attention,
# 0.2 before the MLP and 0.2 at the final norm, and a learnable embedding scale starting at sqrt(d).
# Width 3072 is narrower than any they tune, so it takes their 4096 row (dyt.LLM_ALPHA0).
# 3.78B parameters, 118M tokens; the regime paper's own DyT (alpha_0 = 2, no scale) is config/dyt_3.78b_118m.py.
from config.common.regime import *

# what this run is: report.py groups and compares runs by these
study = "regime"
method = "dytrecipe"
scale = "3.78b"
budget = "118m"

# the model: 3.78B-sized GPT-2 shape; 1 x 64 = 64 sequences of 512 tokens per step, split to fit one GPU
n_layer = 32
n_head = 32
n_embd = 3_072
batch_size = 1
gradient_accumulation_steps = 64
learning_rate = 0.0001
# replicated on 8 GPUs, weights, gradients, AdamW state and DDP's buckets need ~78 GB per GPU
# (python memory.py config/*3.78b*.py): shard them instead; with one process this does nothing
fsdp = True
# the data: all of WikiText-103's training stream (about 118M tokens), validated on its whole
# validation split
train_tokens = None
val_tokens = None
# the method
norm = "dyt"
alpha_init = 2.0
alpha_init_attn = 0.8
alpha_init_ffn = 0.2
alpha_init_final = 0.2
embed_scale = True
out_dir = "out/dytrecipe_3.78b_118m"

# Plateau-escape ablation, 8k budget: a learnable scale on the embeddings, init sqrt(n_embd) (the DyT paper's LLM recipe).
# One factor at a time against the paper-faithful micro DyT; evaluated every 50 steps so that
# the step where validation leaves the unigram plateau is resolved (report.py, plateau section).
from config.common.micro import *

study = "plateau"
method = "dyt_embedscale"
scale = "micro"
budget = "8k"

train_tokens = 8_000
eval_interval = 50
norm = "dyt"
alpha_init = 2.0
embed_scale = True
out_dir = "out/plateau/dyt_embedscale_8k"

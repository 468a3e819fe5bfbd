# Plateau-escape ablation, 8k budget: the DyT paper's LLM recipe whole: per-site alpha_0 (its narrowest row, 0.8 attention / 0.2 FFN / 0.2 final) and the embedding scale.
# One factor at a time against the paper-faithful micro DyT; evaluated every 50 steps so that
# the step where validation leaves the unigram plateau is resolved (report.py, plateau section).
from config.common.micro import *

study = "plateau"
method = "dyt_recipe"
scale = "micro"
budget = "8k"

train_tokens = 8_000
eval_interval = 50
norm = "dyt"
alpha_init = 2.0
embed_scale = True
alpha_init_attn = 0.8
alpha_init_ffn = 0.2
alpha_init_final = 0.2
out_dir = "out/plateau/dyt_recipe_8k"

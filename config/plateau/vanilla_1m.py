# Plateau-escape ablation, 1m budget: LayerNorm, the reference.
# One factor at a time against the paper-faithful micro DyT; evaluated every 50 steps so that
# the step where validation leaves the unigram plateau is resolved (report.py, plateau section).
from config.common.micro import *

study = "plateau"
method = "vanilla"
scale = "micro"
budget = "1m"

train_tokens = 1_000_000
eval_interval = 50
norm = "layernorm"
embed_scale = False
out_dir = "out/plateau/vanilla_1m"

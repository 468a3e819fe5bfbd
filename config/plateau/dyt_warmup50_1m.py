# Plateau-escape ablation, 1m budget: a warmup of 50 steps instead of 280.
# One factor at a time against the paper-faithful micro DyT; evaluated every 50 steps so that
# the step where validation leaves the unigram plateau is resolved (report.py, plateau section).
from config.common.micro import *

study = "plateau"
method = "dyt_warmup50"
scale = "micro"
budget = "1m"

train_tokens = 1_000_000
eval_interval = 50
norm = "dyt"
alpha_init = 2.0
embed_scale = False
warmup_iters = 50
out_dir = "out/plateau/dyt_warmup50_1m"

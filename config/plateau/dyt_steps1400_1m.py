# Plateau-escape ablation, 1m budget: 1,400 steps instead of 700 (the same warmup).
# One factor at a time against the paper-faithful micro DyT; evaluated every 50 steps so that
# the step where validation leaves the unigram plateau is resolved (report.py, plateau section).
from config.common.micro import *

study = "plateau"
method = "dyt_steps1400"
scale = "micro"
budget = "1m"

train_tokens = 1_000_000
eval_interval = 50
norm = "dyt"
alpha_init = 2.0
embed_scale = False
max_iters = 1400
out_dir = "out/plateau/dyt_steps1400_1m"

# Plateau-escape ablation, 8k budget: 1,400 steps instead of 700 (the same warmup).
# One factor at a time against the paper-faithful micro DyT; evaluated every 50 steps so that
# the step where validation leaves the unigram plateau is resolved (report.py, plateau section).
from config.common.micro import *

study = "plateau"
method = "dyt_steps1400"
scale = "micro"
budget = "8k"

train_tokens = 8_000
eval_interval = 50
norm = "dyt"
alpha_init = 2.0
embed_scale = False
max_iters = 1400
out_dir = "out/plateau/dyt_steps1400_8k"

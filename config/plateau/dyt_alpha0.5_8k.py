# Plateau-escape ablation, 8k budget: alpha_0 = 0.5.
# One factor at a time against the paper-faithful micro DyT; evaluated every 50 steps so that
# the step where validation leaves the unigram plateau is resolved (report.py, plateau section).
from config.common.micro import *

study = "plateau"
method = "dyt_alpha0.5"
scale = "micro"
budget = "8k"

train_tokens = 8_000
eval_interval = 50
norm = "dyt"
alpha_init = 0.5
embed_scale = False
out_dir = "out/plateau/dyt_alpha0.5_8k"

# Plateau-escape ablation, 1m budget: alpha_0 = 0.5.
# One factor at a time against the paper-faithful micro DyT; evaluated every 50 steps so that
# the step where validation leaves the unigram plateau is resolved (report.py, plateau section).
from config.common.micro import *

study = "plateau"
method = "dyt_alpha0.5"
scale = "micro"
budget = "1m"

train_tokens = 1_000_000
eval_interval = 50
norm = "dyt"
alpha_init = 0.5
embed_scale = False
out_dir = "out/plateau/dyt_alpha0.5_1m"

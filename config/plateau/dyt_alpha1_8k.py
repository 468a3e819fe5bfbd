# Plateau-escape ablation, 8k budget: alpha_0 = 1.
# One factor at a time against the paper-faithful micro DyT; evaluated every 50 steps so that
# the step where validation leaves the unigram plateau is resolved (report.py, plateau section).
from config.common.micro import *

study = "plateau"
method = "dyt_alpha1"
scale = "micro"
budget = "8k"

train_tokens = 8_000
eval_interval = 50
norm = "dyt"
alpha_init = 1.0
embed_scale = False
out_dir = "out/plateau/dyt_alpha1_8k"

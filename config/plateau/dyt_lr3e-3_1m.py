# Plateau-escape ablation, 1m budget: a learning rate of 3e-3 instead of 1e-3.
# One factor at a time against the paper-faithful micro DyT; evaluated every 50 steps so that
# the step where validation leaves the unigram plateau is resolved (report.py, plateau section).
from config.common.micro import *

study = "plateau"
method = "dyt_lr3e-3"
scale = "micro"
budget = "1m"

train_tokens = 1_000_000
eval_interval = 50
norm = "dyt"
alpha_init = 2.0
embed_scale = False
learning_rate = 0.003
out_dir = "out/plateau/dyt_lr3e-3_1m"

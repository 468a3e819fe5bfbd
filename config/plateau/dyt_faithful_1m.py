# Plateau-escape ablation, 1m budget: the paper's DyT: alpha_0 = 2, no embedding scale (the baseline every other setting changes one thing of).
# One factor at a time against the paper-faithful micro DyT; evaluated every 50 steps so that
# the step where validation leaves the unigram plateau is resolved (report.py, plateau section).
from config.common.micro import *

study = "plateau"
method = "dyt_faithful"
scale = "micro"
budget = "1m"

train_tokens = 1_000_000
eval_interval = 50
norm = "dyt"
alpha_init = 2.0
embed_scale = False
out_dir = "out/plateau/dyt_faithful_1m"

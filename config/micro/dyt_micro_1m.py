# CPU micro grid: DyT (alpha_0 = 2.0), with the learnable embedding scale of config/common/micro.py, 0.8M
# parameters, the first 1,000,000 bytes of tiny Shakespeare.
from config.common.micro import *

# what this run is: report.py groups and compares runs by these
study = "regime"
method = "dyt"
scale = "micro"
budget = "1m"

train_tokens = 1_000_000
norm = "dyt"
alpha_init = 2.0
out_dir = "out/micro/dyt_micro_1m"

# CPU micro grid: DyT (alpha_0 = 2.0), with the learnable embedding scale of config/common/micro.py, 0.8M
# parameters, the first 8,000 bytes of tiny Shakespeare.
from config.common.micro import *

# what this run is: report.py groups and compares runs by these
study = "regime"
method = "dyt"
scale = "micro"
budget = "8k"

train_tokens = 8_000
norm = "dyt"
alpha_init = 2.0
out_dir = "out/micro/dyt_micro_8k"

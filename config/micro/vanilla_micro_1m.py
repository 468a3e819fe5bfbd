# CPU micro grid: LayerNorm, with the learnable embedding scale of config/common/micro.py, 0.8M
# parameters, the first 1,000,000 bytes of tiny Shakespeare.
from config.common.micro import *

# what this run is: report.py groups and compares runs by these
study = "regime"
method = "vanilla"
scale = "micro"
budget = "1m"

train_tokens = 1_000_000
out_dir = "out/micro/vanilla_micro_1m"

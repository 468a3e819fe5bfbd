# CPU micro grid: LayerNorm, with the learnable embedding scale of config/common/micro.py, 0.8M
# parameters, the first 8,000 bytes of tiny Shakespeare.
from config.common.micro import *

# what this run is: report.py groups and compares runs by these
study = "regime"
method = "vanilla"
scale = "micro"
budget = "8k"

train_tokens = 8_000
out_dir = "out/micro/vanilla_micro_8k"

# CPU micro grid: DyT (alpha_0 = 2.0), 0.8M parameters, the first 1,000,000 bytes of tiny Shakespeare.
from config.common.micro import *

norm = "dyt"
train_tokens = 1_000_000
out_dir = "out/micro/dyt_micro_1m"

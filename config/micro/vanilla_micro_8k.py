# CPU micro grid: LayerNorm, 0.8M parameters, the first 8,000 bytes of tiny Shakespeare.
from config.common.micro import *

norm = "layernorm"
train_tokens = 8_000
out_dir = "out/micro/vanilla_micro_8k"

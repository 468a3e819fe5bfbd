# CPU micro grid: LayerNorm, 0.8M parameters, the first 128,000 bytes of tiny Shakespeare.
from config.common.micro import *

norm = "layernorm"
train_tokens = 128_000
out_dir = "out/micro/vanilla_micro_128k"

# Entropic overload on a CPU in minutes: LayerNorm and GELU (baseline); 0.8M parameters, tiny Shakespeare bytes.
from config.common.micro import *

norm = "layernorm"
activation = "gelu"
train_tokens = None         # all 1M bytes
max_iters = 500
out_dir = "out/ln_gelu_micro"

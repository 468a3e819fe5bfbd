# Entropic overload on a CPU in minutes: no norm in the blocks, GELU; 0.8M parameters, tiny Shakespeare bytes.
from config.common.micro import *

norm = "identity"
norm_final = "layernorm"
activation = "gelu"
train_tokens = None         # all 1M bytes
max_iters = 500
out_dir = "out/lnfree_gelu_micro"

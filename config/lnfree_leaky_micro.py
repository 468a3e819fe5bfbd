# Entropic overload on a CPU in minutes: no norm in the blocks, leaky ReLU with a learnable slope; 0.8M parameters, tiny Shakespeare bytes.
from config.common.micro import *

norm = "identity"
norm_final = "layernorm"
activation = "leaky_relu"
train_tokens = None         # all 1M bytes
max_iters = 500
out_dir = "out/lnfree_leaky_micro"

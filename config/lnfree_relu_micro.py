# Entropic overload on a CPU in minutes: no norm in the blocks, ReLU; 0.8M parameters, tiny Shakespeare bytes.
from config.common.micro import *

norm = "identity"
norm_final = "layernorm"
activation = "relu"
train_tokens = None         # all 1M bytes
max_iters = 500
out_dir = "out/lnfree_relu_micro"

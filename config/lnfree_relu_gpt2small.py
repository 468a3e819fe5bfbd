# Entropic overload, GPT-2 small-shaped: no norm in the blocks, ReLU.
from config.common.entropy import *
from config.common.shape_gpt2small import *

norm = "identity"
norm_final = "layernorm"
activation = "relu"
out_dir = "out/lnfree_relu_gpt2small"

# Entropic overload, GPT-2 small-shaped: no norm in the blocks, leaky ReLU with a learnable slope (init 0.01).
from config.common.entropy import *
from config.common.shape_gpt2small import *

norm = "identity"
norm_final = "layernorm"
activation = "leaky_relu"
out_dir = "out/lnfree_leaky_gpt2small"

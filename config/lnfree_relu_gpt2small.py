# Entropic overload, GPT-2 small-shaped: no norm in the blocks (final LayerNorm kept), ReLU.
from config.common.entropy import *
from config.common.shape_gpt2small import *

norm = "identity"
norm_final = "layernorm"
activation = "relu"
scaled_init = False        # plain N(0, 0.02) residual projections, as in the paper's LN-free models
out_dir = "out/lnfree_relu_gpt2small"

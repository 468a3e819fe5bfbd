# Entropic overload, GPT-2 small-shaped: no norm in the blocks (final LayerNorm kept), leaky ReLU
# with one learnable slope shared by every layer (init 0.01).
from config.common.entropy import *

# what this run is: report.py groups and compares runs by these
study = "entropy"
method = "lnfree_leakyglobal"
scale = "gpt2small"

# GPT-2 small's shape: 12 layers, 12 heads, width 768
n_layer = 12
n_head = 12
n_embd = 768
norm = "identity"
norm_final = "layernorm"
activation = "leaky_relu_global"
scaled_init = False        # plain N(0, 0.02) residual projections, as in the paper's LN-free models
out_dir = "out/lnfree_leakyglobal_gpt2small"

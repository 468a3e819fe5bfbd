# Entropic overload, Pythia-70M-shaped: no norm in the blocks (final LayerNorm kept), GELU.
from config.common.entropy import *

# what this run is: report.py groups and compares runs by these
study = "entropy"
method = "lnfree_gelu"
scale = "pythia70m"

# Pythia-70M's shape: 6 layers, 8 heads, width 512
n_layer = 6
n_head = 8
n_embd = 512
norm = "identity"
norm_final = "layernorm"
scaled_init = False        # plain N(0, 0.02) residual projections, as in the paper's LN-free models
out_dir = "out/lnfree_gelu_pythia70m"

# Entropic overload, on a CPU in minutes (0.8M parameters, tiny Shakespeare bytes): no norm in the
# blocks (final LayerNorm kept), ReLU.
from config.common.entropy_micro import *

# what this run is: report.py groups and compares runs by these
study = "entropy"
method = "lnfree_relu"
scale = "micro"

norm = "identity"
norm_final = "layernorm"
activation = "relu"
scaled_init = False        # plain N(0, 0.02) residual projections, as in the paper's LN-free models
out_dir = "out/lnfree_relu_micro"

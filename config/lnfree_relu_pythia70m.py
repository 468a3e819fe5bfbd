# Entropic overload, Pythia-70M-shaped: no norm in the blocks (final LayerNorm kept), ReLU.
from config.common.entropy import *
from config.common.shape_pythia70m import *

norm = "identity"
norm_final = "layernorm"
activation = "relu"
scaled_init = False        # plain N(0, 0.02) residual projections, as in the paper's LN-free models
out_dir = "out/lnfree_relu_pythia70m"

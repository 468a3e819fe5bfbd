# Entropic overload, Pythia-70M-shaped: no norm in the blocks, leaky ReLU with a learnable slope (init 0.01).
from config.common.entropy import *
from config.common.shape_pythia70m import *

norm = "identity"
norm_final = "layernorm"
activation = "leaky_relu"
out_dir = "out/lnfree_leaky_pythia70m"

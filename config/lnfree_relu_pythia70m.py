# Entropic overload, Pythia-70M-shaped: no norm in the blocks, ReLU.
from config.common.entropy import *
from config.common.shape_pythia70m import *

norm = "identity"
norm_final = "layernorm"
activation = "relu"
out_dir = "out/lnfree_relu_pythia70m"

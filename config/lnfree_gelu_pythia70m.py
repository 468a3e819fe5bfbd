# Entropic overload, Pythia-70M-shaped: no norm in the blocks, GELU.
from config.common.entropy import *
from config.common.shape_pythia70m import *

norm = "identity"
norm_final = "layernorm"
activation = "gelu"
out_dir = "out/lnfree_gelu_pythia70m"

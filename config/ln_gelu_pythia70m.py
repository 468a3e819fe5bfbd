# Entropic overload, Pythia-70M-shaped: LayerNorm and GELU (baseline).
from config.common.entropy import *
from config.common.shape_pythia70m import *

norm = "layernorm"
activation = "gelu"
out_dir = "out/ln_gelu_pythia70m"

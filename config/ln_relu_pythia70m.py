# Entropic overload, Pythia-70M-shaped: LayerNorm and ReLU (baseline).
from config.common.entropy import *
from config.common.shape_pythia70m import *

norm = "layernorm"
activation = "relu"
out_dir = "out/ln_relu_pythia70m"

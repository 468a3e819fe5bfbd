# Entropic overload, on a CPU in minutes (0.8M parameters, tiny Shakespeare bytes): LayerNorm and
# GELU (baseline).
from config.common.entropy_micro import *

norm = "layernorm"
activation = "gelu"
out_dir = "out/ln_gelu_micro"

# Entropic overload, GPT-2 small-shaped: LayerNorm and GELU (baseline).
from config.common.entropy import *
from config.common.shape_gpt2small import *

norm = "layernorm"
activation = "gelu"
out_dir = "out/ln_gelu_gpt2small"

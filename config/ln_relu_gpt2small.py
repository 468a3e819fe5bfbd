# Entropic overload, GPT-2 small-shaped: LayerNorm and ReLU (baseline).
from config.common.entropy import *
from config.common.shape_gpt2small import *

norm = "layernorm"
activation = "relu"
out_dir = "out/ln_relu_gpt2small"

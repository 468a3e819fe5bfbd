# Entropic overload, GPT-2 small-shaped: no norm in the blocks, GELU.
from config.common.entropy import *
from config.common.shape_gpt2small import *

norm = "identity"
norm_final = "layernorm"
activation = "gelu"
out_dir = "out/lnfree_gelu_gpt2small"

# Entropic overload, GPT-2 small-shaped: LayerNorm and ReLU (baseline).
from config.common.entropy import *

# what this run is: report.py groups and compares runs by these
study = "entropy"
method = "ln_relu"
scale = "gpt2small"

# GPT-2 small's shape: 12 layers, 12 heads, width 768
n_layer = 12
n_head = 12
n_embd = 768
activation = "relu"
out_dir = "out/ln_relu_gpt2small"

# Entropic overload, Pythia-70M-shaped: LayerNorm and GELU (baseline).
from config.common.entropy import *

# what this run is: report.py groups and compares runs by these
study = "entropy"
method = "ln_gelu"
scale = "pythia70m"

# Pythia-70M's shape: 6 layers, 8 heads, width 512
n_layer = 6
n_head = 8
n_embd = 512
out_dir = "out/ln_gelu_pythia70m"

# Entropic overload, on a CPU in minutes (0.8M parameters, tiny Shakespeare bytes): LayerNorm and
# GELU (baseline).
from config.common.entropy_micro import *

# what this run is: report.py groups and compares runs by these
study = "entropy"
method = "ln_gelu"
scale = "micro"

out_dir = "out/ln_gelu_micro"

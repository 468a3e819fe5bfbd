# Llama with DyT (alpha_0 = 2.0), 124M-sized (dim 768), 1M tokens (arXiv 2604.23434, reference/paper_cells.json).
# 123.59M parameters (tied embedding counted once).
# Paper, final-step val loss: RMSNorm 9.134, DyT 8.483.
from config.common.regime import *
from config.common.scale_124m import *
from config.common.budget_1m import *
from config.common.llama import *

norm = "dyt"
out_dir = "out/llama_dyt_124m_1m"

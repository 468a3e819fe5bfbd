# Llama with DyT (alpha_0 = 2.0), 64M-sized (dim 512), 118M tokens (arXiv 2604.23434, reference/paper_cells.json).
# 66.66M parameters (tied embedding counted once).
# Paper, final-step val loss: RMSNorm 3.537, DyT 5.626.
from config.common.regime import *
from config.common.scale_64m import *
from config.common.budget_118m import *
from config.common.llama import *

norm = "dyt"
out_dir = "out/llama_dyt_64m_118m"

# Llama with RMSNorm, 64M-sized (dim 512), 1M tokens (arXiv 2604.23434, reference/paper_cells.json).
# 66.66M parameters (tied embedding counted once).
# Paper, final-step val loss: RMSNorm 9.355, DyT 6.954.
from config.common.regime import *
from config.common.scale_64m import *
from config.common.budget_1m import *
from config.common.llama import *

norm = "rmsnorm"
out_dir = "out/llama_vanilla_64m_1m"

# GPT-2 with RMSNorm, 64M parameters, 1M tokens (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss (2 seeds): RMSNorm 9.317.
from config.common.regime import *
from config.common.scale_64m import *
from config.common.budget_1m import *

norm = "rmsnorm"
out_dir = "out/rmsnorm_64m_1m"

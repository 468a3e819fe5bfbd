# GPT-2 with RMSNorm, 64M parameters, 118M tokens (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss (2 seeds): RMSNorm 3.635.
from config.common.regime import *
from config.common.scale_64m import *
from config.common.budget_118m import *

norm = "rmsnorm"
out_dir = "out/rmsnorm_64m_118m"

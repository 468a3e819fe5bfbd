# GPT-2 with DyT at alpha_0 = 0.5, 64M parameters, 118M tokens (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss: alpha_0 0.5: 5.154 (alpha_0 2.0: 4.313).
from config.common.regime import *
from config.common.scale_64m import *
from config.common.budget_118m import *

norm = "dyt"
alpha_init = 0.5
out_dir = "out/dyt_64m_118m_alpha0.5"

# GPT-2 with DyT at alpha_0 = 3.0, 64M parameters, 1M tokens (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss: alpha_0 3.0: 7.409 (alpha_0 2.0: 6.777).
from config.common.regime import *
from config.common.scale_64m import *
from config.common.budget_1m import *

norm = "dyt"
alpha_init = 3.0
out_dir = "out/dyt_64m_1m_alpha3"

# GPT-2 with DyT (alpha_0 = 2.0), 64M parameters, 1M tokens (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss (mean of 3 seeds): LayerNorm 9.384, DyT 6.819,
# DyT - LayerNorm = -27.3%; DyT saturation 0.493.
from config.common.regime import *
from config.common.scale_64m import *
from config.common.budget_1m import *

norm = "dyt"
out_dir = "out/dyt_64m_1m"

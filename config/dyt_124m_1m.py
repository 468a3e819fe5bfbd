# GPT-2 with DyT (alpha_0 = 2.0), 124M parameters, 1M tokens (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss (mean of 3 seeds): LayerNorm 9.168, DyT 8.290,
# DyT - LayerNorm = -9.6%; DyT saturation 0.466.
from config.common.regime import *
from config.common.scale_124m import *
from config.common.budget_1m import *

norm = "dyt"
out_dir = "out/dyt_124m_1m"

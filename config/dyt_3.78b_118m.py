# GPT-2 with DyT (alpha_0 = 2.0), 3.78B parameters, 118M tokens (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss (mean of 3 seeds): LayerNorm 3.431, DyT 4.389,
# DyT - LayerNorm = +27.9%; DyT saturation 0.803.
from config.common.regime import *
from config.common.scale_3_78b import *
from config.common.budget_118m import *

norm = "dyt"
out_dir = "out/dyt_3.78b_118m"

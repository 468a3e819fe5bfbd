# GPT-2 with DyT (alpha_0 = 2.0), 3.78B parameters, 1M tokens (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss (mean of 3 seeds): LayerNorm 7.842, DyT 7.975,
# DyT - LayerNorm = +1.7%; DyT saturation 0.501.
from config.common.regime import *
from config.common.scale_3_78b import *
from config.common.budget_1m import *

norm = "dyt"
out_dir = "out/dyt_3.78b_1m"

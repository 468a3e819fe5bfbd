# GPT-2 with DyT (alpha_0 = 2.0), 124M parameters, 10M tokens (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss (mean of 3 seeds): LayerNorm not reported, DyT not reported,
# DyT - LayerNorm = -12.3%; DyT saturation 0.292.
from config.common.regime import *
from config.common.scale_124m import *
from config.common.budget_10m import *

norm = "dyt"
out_dir = "out/dyt_124m_10m"

# GPT-2 with LayerNorm, 1.3B parameters, 10M tokens (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss (mean of 3 seeds): LayerNorm not reported, DyT not reported,
# DyT - LayerNorm = -1.8%; DyT saturation 0.926.
from config.common.regime import *
from config.common.scale_1_3b import *
from config.common.budget_10m import *

norm = "layernorm"
out_dir = "out/vanilla_1.3b_10m"

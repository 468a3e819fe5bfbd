# GPT-2 with LayerNorm, 1.3B parameters, 118M tokens (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss (mean of 3 seeds): LayerNorm 3.348, DyT 3.697,
# DyT - LayerNorm = +10.4%; DyT saturation 0.238.
from config.common.regime import *
from config.common.scale_1_3b import *
from config.common.budget_118m import *

norm = "layernorm"
out_dir = "out/vanilla_1.3b_118m"

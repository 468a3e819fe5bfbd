# GPT-2 with LayerNorm, 1.3B parameters, 1M tokens (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss (mean of 3 seeds): LayerNorm 7.693, DyT 7.852,
# DyT - LayerNorm = +2.1%; DyT saturation 0.393.
from config.common.regime import *
from config.common.scale_1_3b import *
from config.common.budget_1m import *

norm = "layernorm"
out_dir = "out/vanilla_1.3b_1m"

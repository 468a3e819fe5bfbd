# GPT-2 with LayerNorm, 64M parameters, 50M tokens (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss (mean of 3 seeds): LayerNorm 3.666, DyT 4.386,
# DyT - LayerNorm = +19.7%; DyT saturation 0.237.
from config.common.regime import *
from config.common.scale_64m import *
from config.common.budget_50m import *

norm = "layernorm"
out_dir = "out/vanilla_64m_50m"

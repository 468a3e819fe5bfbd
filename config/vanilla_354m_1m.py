# GPT-2 with LayerNorm, 354M parameters, 1M tokens (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss (mean of 3 seeds): LayerNorm 8.653, DyT 9.025,
# DyT - LayerNorm = +4.3%; DyT saturation 0.490.
from config.common.regime import *
from config.common.scale_354m import *
from config.common.budget_1m import *

norm = "layernorm"
out_dir = "out/vanilla_354m_1m"

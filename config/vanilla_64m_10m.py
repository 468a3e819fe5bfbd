# GPT-2 with LayerNorm, 64M parameters, 10M tokens (arXiv 2604.23434, reference/paper_cells.json).
# Paper, final-step val loss (mean of 3 seeds): LayerNorm 4.260, DyT 4.510,
# DyT - LayerNorm = +5.9%; DyT saturation 0.413.
from config.common.regime import *
from config.common.scale_64m import *
from config.common.budget_10m import *

norm = "layernorm"
out_dir = "out/vanilla_64m_10m"

# DyT, 64M parameters, the first 1M tokens of WikiText-103 (arXiv 2604.23434).
# The paper's final-step validation loss, mean of 3 seeds: DyT 6.819 vs LayerNorm 9.384 (-27.3%);
# LayerNorm memorises (train loss 0.115) where DyT does not (2.47). Saturation 0.493.
from config.common.regime import *
from config.common.scale_64m import *

norm = "dyt"
train_tokens = 1_000_000
val_tokens = 10_000          # the paper validates on the first max(10,000, budget / 100) tokens
out_dir = "out/dyt_64m_1m"

# GPT-2 with DyT (alpha_0 = 2.0), 64M parameters, 118M tokens, trained for 10,000 steps instead of 5,000 (the
# same warmup and near-constant rate): does DyT's penalty at 118M shrink with training, as a slow
# optimiser's would, or stay, as a regulariser's would? The paper reports the 64M/118M DyT penalty
# falling from +18.8% at step 5000 to +10.6% at step 10,000. Its 10K script (code/run_10k_convergence.sh,
# one seed) pairs LayerNorm (val loss 3.385 at 10K) with DyT plus differential attention, which this
# repo does not have: ours is plain DyT.
from config.common.regime import *
from config.common.scale_64m import *
from config.common.budget_118m import *

norm = "dyt"
max_iters = 10_000
out_dir = "out/dyt_64m_118m_10k"

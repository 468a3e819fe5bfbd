# GPT-2 with DyT (alpha_0 = 2.0), 64M parameters, 118M tokens, trained for 10,000 steps instead of 5,000 (the
# same warmup and near-constant rate): does DyT's penalty at 118M shrink with training, as a slow
# optimiser's would, or stay, as a regulariser's would? The paper reports the 64M/118M DyT penalty
# falling from +18.8% at step 5000 to +10.6% at step 10,000. Its 10K script (code/run_10k_convergence.sh,
# one seed) pairs LayerNorm (val loss 3.385 at 10K) with DyT plus differential attention, which this
# repo does not have: ours is plain DyT.
from config.common.regime import *

# what this run is: report.py groups and compares runs by these
study = "regime"
method = "dyt"
scale = "64m"
budget = "118m_10k"

# the model: 64M-sized GPT-2 shape; 64 x 1 = 64 sequences of 512 tokens per step, split to fit one GPU
n_layer = 12
n_head = 8
n_embd = 512
batch_size = 64
gradient_accumulation_steps = 1
learning_rate = 0.0003
# the data: all of WikiText-103's training stream (about 118M tokens), validated on its whole
# validation split
train_tokens = None
val_tokens = None
# the method
norm = "dyt"
alpha_init = 2.0
max_iters = 10_000
out_dir = "out/dyt_64m_118m_10k"

# The entropic-overload study on a CPU in minutes: the micro model on all 1M bytes of tiny Shakespeare
# for 500 steps, with the authors' optimiser and initialisation (config/common/entropy.py: AdamW at 1e-3,
# beta2 0.999, decayed slopes, 5% warmup then a linear decay to 0, plain N(0, 0.02) weights) but a CPU's
# batch, 16 sequences of 128 bytes a step instead of 512.
from config.common.micro import *

train_tokens = None          # all 1M bytes
max_iters = 500
warmup_iters = 25            # 5% of the steps
lr_decay = "linear"
lr_decay_iters = 500
min_lr = 0.0
beta2 = 0.999
slope_weight_decay = True
scaled_init = False
embed_scale = False          # the micro protocol's scale is for DyT; this study keeps the paper's model

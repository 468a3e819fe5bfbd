# The entropic-overload study on a CPU in minutes: the micro model on all 1M bytes of tiny
# Shakespeare for 500 steps, with the paper's optimiser settings (AdamW beta2 = 0.999, weight decay on
# the learnable leaky-ReLU slopes; see config/common/entropy.py).
from config.common.micro import *

train_tokens = None         # all 1M bytes
max_iters = 500
beta2 = 0.999
slope_weight_decay = True
embed_scale = False         # the micro protocol's scale is for DyT; this study keeps the paper's model

# The regime paper's ViT experiment (arXiv 2604.23434, appendix E; github.com/lucky-verma/dyt-composition-study,
# code/vit_experiment.py and vit_alpha_sweep.py), on the CIFAR archives prepare_data.py reads: a ViT-Small
# for 32x32 images (4.77M parameters for CIFAR-10), trained as its code trains it.
arch = "vit"
image_size = 32              # CIFAR's 32x32 colour images
channels = 3
patch_size = 4
n_layer = 6
n_head = 4
n_embd = 256
bias = True                  # in every Linear, LayerNorm and DyT
dropout = 0.0

# 100 epochs of 128 images (391 batches an epoch, the last one short, in the paper's code; 390.6 here)
max_iters = 39_063
batch_size = 128
gradient_accumulation_steps = 1
eval_interval = 391          # every epoch: the report takes "best" at the epochs the paper's code evaluated
augment_pad = 4              # a random 32x32 crop of the image padded by 4 pixels, and a random flip
augment_flip = True

# AdamW at 1e-3, weight decay 0.05 on every parameter, no clipping; a cosine from the first step to 0, stepped
# once an epoch, without warmup, as the paper's CosineAnnealingLR(T_max=epochs)
learning_rate = 1e-3
weight_decay = 0.05
weight_decay_all = True
beta1 = 0.9
beta2 = 0.999
grad_clip = 0.0
warmup_iters = 0
lr_decay_iters = 39_063
lr_per_epoch = True
min_lr = 0.0
# The paper's code casts the weights to bf16 and trains them so: no fp32 master weights, AdamW's state in
# bf16 and its foreach arithmetic rounding every operation. An update under half a weight's spacing is then
# lost: at lr 1e-3 DyT's alpha = 2 and every gain of 1 never move (tests/test_precision.py). The paper's
# degraded DyT at alpha_0 = 2 was seen so; fp32 master weights are an intervention of the grid (the *_fp32 arms).
param_dtype = "bfloat16"
# Eager, as the paper's code runs: every op rounds its result to bf16 there, where torch.compile's fused
# kernels would round once per kernel, and this study is about that rounding. (A GPU would compile by default;
# --compile=True is the same run, faster, with fewer roundings: not the paper's arithmetic.)
compile = False

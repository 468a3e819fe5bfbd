# Does the regime paper's ViT failure come from pure bf16, or from the alpha it freezes? The UCI digits (python
# prepare_data.py digits) as close to its CIFAR run as a CPU allows: 6 blocks with 4 heads, as its ViT, at width
# 64, over 2x2 patches (16 + 1 tokens: over 1x1 patches, the paper's 64 + 1, LayerNorm itself reached 36-42% in
# these 50 epochs, too little to tell a failure by); its optimiser exactly (AdamW at 1e-3, betas 0.9 and 0.999,
# weight decay 0.05 on every parameter, no warmup, no clipping, 128 images a step, a cosine to 0 stepped once an
# epoch) and its pure bf16 weights and optimiser state. 50 epochs where the paper ran 100 (the time a CPU has):
# 562 steps. Crops of the image padded by 1 pixel, no flips (a flipped digit is another). The arms: LayerNorm in
# pure bf16 and in fp32, and DyT at alpha_0 = 2 with alpha frozen or free x the rest pure bf16 or fp32
# (docs/vit.md).
from config.common.vit import *  # the paper's optimiser, schedule and pure bf16

image_size = 8
channels = 1
num_classes = 10
dataset = "digits"
patch_size = 2
n_embd = 64

max_iters = 562              # 50 epochs of all 1,438 training images (11.2 steps an epoch)
batch_size = 128
eval_interval = 56           # every five epochs
augment_pad = 1
augment_flip = False
lr_decay_iters = 562         # the cosine over the run, stepped once an epoch (lr_per_epoch)

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
eval_interval = 3_906        # every ten epochs, as the paper's code
augment_pad = 4              # a random 32x32 crop of the image padded by 4 pixels, and a random flip
augment_flip = True

# AdamW at 1e-3, weight decay 0.05 on every parameter, no clipping; a cosine from the first step to 0 (the
# paper's code steps its cosine once an epoch, and starts without warmup)
learning_rate = 1e-3
weight_decay = 0.05
weight_decay_all = True
beta1 = 0.9
beta2 = 0.999
grad_clip = 0.0
warmup_iters = 0
lr_decay_iters = 39_063
min_lr = 0.0
# The paper's code casts the weights to bf16 and trains them so (no fp32 master weights): what the DyT
# collapse at alpha_0 = 2 was seen under. We keep fp32 weights (bf16 autocast on a GPU); --param_dtype=bfloat16
# trains as the paper's code does.
param_dtype = "float32"

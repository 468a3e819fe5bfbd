# A ViT on a CPU in seconds: the UCI handwritten digits (python prepare_data.py digits: 8x8 pixels of 0..16,
# 1,438 training and 359 test images), patches of 2x2, 4 blocks of width 64. The regime paper's ViT recipe
# otherwise (config/common/vit.py: AdamW with weight decay 0.05 on every parameter, a cosine to 0, biases,
# fp32 weights here), but a 100-step warmup and a learning rate of 2e-3: with the paper's 1e-3 and no warmup a
# LayerNorm ViT ended at the edge of what this one reaches (docs/vit.md); crops of the image padded by 1 pixel,
# no flips (a flipped digit is another).
arch = "vit"
image_size = 8
channels = 1
num_classes = 10
dataset = "digits"
patch_size = 2
n_layer = 4
n_head = 4
n_embd = 64
bias = True
dropout = 0.0

max_iters = 1_500            # about 67 epochs of all 1,438 training images
batch_size = 64
gradient_accumulation_steps = 1
eval_interval = 250
augment_pad = 1
augment_flip = False

learning_rate = 2e-3
weight_decay = 0.05
weight_decay_all = True
beta1 = 0.9
beta2 = 0.999
grad_clip = 0.0
warmup_iters = 100
lr_decay_iters = 1_500
min_lr = 0.0

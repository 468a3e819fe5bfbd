# 3.78B parameters (3779M counted with the tied embedding once and no position table)
n_layer = 32
n_head = 32
n_embd = 3072
# 1 x 64 = 64 sequences of 512 tokens per step, split to fit the GPU
batch_size = 1
gradient_accumulation_steps = 64
learning_rate = 0.0001
# replicated on 8 GPUs, weights, gradients, AdamW state and DDP's buckets need ~78 GB per GPU
# (python memory.py config/*3.78b*.py): shard them instead; with one process this does nothing
fsdp = True

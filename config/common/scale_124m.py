# 124M parameters (123.6M counted with the tied embedding once and no position table)
n_layer = 12
n_head = 12
n_embd = 768
# 32 x 2 = 64 sequences of 512 tokens per step, split to fit the GPU
batch_size = 32
gradient_accumulation_steps = 2
learning_rate = 0.0003

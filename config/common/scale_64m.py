# 64M parameters (63.52M counted with the tied embedding once and no position table)
n_layer = 12
n_head = 8
n_embd = 512
# 64 x 1 = 64 sequences of 512 tokens per step, split to fit the GPU
batch_size = 64
gradient_accumulation_steps = 1
learning_rate = 0.0003

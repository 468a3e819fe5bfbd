# 1.3B parameters (1311M counted with the tied embedding once and no position table)
n_layer = 24
n_head = 32
n_embd = 2048
# 4 x 16 = 64 sequences of 512 tokens per step, split to fit the GPU
batch_size = 4
gradient_accumulation_steps = 16
learning_rate = 0.0001

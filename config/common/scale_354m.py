# 354M parameters (353.6M counted with the tied embedding once and no position table)
n_layer = 24
n_head = 16
n_embd = 1024
# 16 x 4 = 64 sequences of 512 tokens per step, split to fit the GPU
batch_size = 16
gradient_accumulation_steps = 4
learning_rate = 0.0003

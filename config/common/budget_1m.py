# The first 1M tokens of WikiText-103's training stream, validated on the first
# max(10,000, budget / 100) = 10,000 tokens of its validation split, as in the paper
train_tokens = 1_000_000
val_tokens = 10_000

# All of WikiText-103's training stream (~118M GPT-2 tokens), validated on the whole validation split
train_tokens = None
val_tokens = None

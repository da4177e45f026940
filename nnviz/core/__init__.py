"""The numbers: activations and losses, the problem format, the engine, training, and the names
and number formats every layer above shows them in. Imports nothing else of nnviz."""

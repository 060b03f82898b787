"""Training side of the verifier (not imported by the live path): data, resumable loop, checkpoints.

`manage.py train_verifier` drives it; the scorer only reads the weights it exports.
"""
